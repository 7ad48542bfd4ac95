import Platform

/// The view model of the start page: which modules to present, in which order, and the three steps to run it.
struct StartPage {
    let t: Localizer

    static let modules = ["crm", "erp", "messaging", "security", "insights", "identity", "gateway"]
    static let steps: [(key: String, code: String)] = [
        ("step1", "swift run inopsio serve"),
        ("step2", "open http://127.0.0.1:8080"),
        ("step3", "INOPSIO_DATABASE_URL=postgres://… INOPSIO_REDIS_URL=redis://… inopsio serve"),
    ]

    func render() -> HTML {
        let cards = Self.modules.map { module -> HTML in
            """
            <li class="card"><h3 class="card-title">\(t("home.module.\(module).title"))</h3><p>\(t("home.module.\(module).body"))</p></li>
            """
        }
        let steps = Self.steps.map { step -> HTML in
            """
            <li class="step"><h3>\(t("home.start.\(step.key).title"))</h3><p>\(t("home.start.\(step.key).body"))</p>
            <pre class="code" dir="ltr"><code>\(step.code)</code></pre></li>
            """
        }
        return """
            <section class="hero"><p class="eyebrow">\(t("home.eyebrow"))</p><h1>\(t("home.hero.title"))</h1>
            <p class="lead">\(t("home.hero.lead"))</p>
            <div class="hero-actions"><a class="button button-primary" href="/login">\(t("home.hero.signin"))</a>
            <a class="button" href="#run">\(t("home.hero.selfhost"))</a></div></section>
            <section class="section"><h2 class="section-title">\(t("home.modules.title"))</h2>
            <p class="section-lead">\(t("home.modules.lead"))</p><ul class="card-grid">\(cards)</ul></section>
            <section class="section" id="run"><h2 class="section-title">\(t("home.start.title"))</h2><ol class="steps">\(steps)</ol></section>
            """
    }
}
