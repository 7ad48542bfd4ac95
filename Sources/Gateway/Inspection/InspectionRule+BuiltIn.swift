/// The built-in rule set, after OWASP CRS ideas but tuned for business data: apostrophes (O'Brien), words such
/// as "select", "union" or "drop", URLs, e-mail addresses and HTML-ish notes ("a < b and c > d") must pass.
/// Every pattern is written in lower case for lower-cased input and needs some syntax around the keyword (a
/// quote, a parenthesis, a tag opener) rather than the keyword alone.
extension InspectionRule {
    /// All built-in rules: SQL injection, cross-site scripting, path traversal and scanner user agents.
    package static var builtIn: [InspectionRule] {
        sqlInjection + crossSiteScripting + pathTraversal + scanners
    }

    /// Where SQL injection and cross-site scripting arrive: path, query parameters and JSON body. Headers other
    /// than the user agent are left out: `Accept: */*`, cookies and tokens are full of SQL-looking punctuation.
    static let parameterTargets: [InspectionTarget] = [.path, .query, .body]

    static let sqlTransforms: [InspectionTransform] = [.urlDecode, .compactSQL, .lowercase]
    static let sqlCommentTransforms: [InspectionTransform] = [.urlDecode, .lowercase]
    static let markupTransforms: [InspectionTransform] = [.urlDecode, .htmlEntityDecode, .lowercase]

    /// SQL injection: union queries, tautologies, comment truncation, stacked queries, time-based probes and
    /// catalogue reads.
    package static var sqlInjection: [InspectionRule] {
        [
            InspectionRule(
                builtIn: "sqli-union-select", "UNION-based SQL injection (union [all] select)",
                regex: #"\bunion(?:\s+(?:all|distinct))?[\s(]+select\b"#, prefilter: ["union"],
                transforms: sqlTransforms),
            InspectionRule(
                builtIn: "sqli-tautology",
                "Boolean tautology after a closing quote (' or 1=1, ' or 'a'='a) or 1 or 1=1",
                regex:
                    #"['"`]\s*\)*\s*(?:or|and|xor|\|\||&&)(?:\s+|(?=['"`(]))\(*\s*(?:['"`]\w*['"`]|\w+)\s*(?:=|<>|!=|>|<|like\b)|\b(?:or|and)\s+(\d+)\s*=\s*\1\b"#,
                prefilter: ["=", "<", ">", "like"], transforms: sqlTransforms),
            InspectionRule(
                builtIn: "sqli-comment-truncation", "A quote closed and the rest of the query commented out (admin'--)",
                regex: #"['"`]\s*\)*\s*;?\s*(?:--[\s-]*|#)\s*$"#, prefilter: ["--", "#"],
                transforms: sqlCommentTransforms),
            InspectionRule(
                builtIn: "sqli-inline-comment", "SQL keyword glued to a comment (union/**/select, /*!50000select*/)",
                regex:
                    #"/\*!|\b(?:select|union|insert|update|delete|drop|from|where|and|or|having|order)\s*/\*|\*/\s*(?:select|union|from|where|and|or)\b"#,
                prefilter: ["/*", "*/"], transforms: sqlCommentTransforms),
            InspectionRule(
                builtIn: "sqli-stacked-query",
                "A second statement after a quote, number or parenthesis ('; drop table x)",
                regex:
                    #"(?:^|['"`)\d])\s*;\s*(?:(?:drop|truncate|alter|create)\s+(?:table|database|schema|index|view|user|procedure|function)\b|delete\s+from\b|insert\s+into\b|update\s+\w+\s+set\b|exec(?:ute)?\s+(?:xp_|sp_)|shutdown\b|declare\s+@)"#,
                prefilter: [";"], transforms: sqlTransforms),
            InspectionRule(
                builtIn: "sqli-time-based",
                "Time-based blind SQL injection (sleep(5), benchmark(n, md5(..)), pg_sleep)",
                regex:
                    #"\bsleep\s*\(\s*\d+(?:\.\d+)?\s*\)|\bpg_sleep\s*\(|\bbenchmark\s*\(\s*\d+\s*,\s*\w+\s*\(|\bwaitfor\s+delay\s+['"]|\bdbms_(?:pipe\.receive_message|lock\.sleep)\s*\("#,
                prefilter: ["sleep", "benchmark", "waitfor", "dbms_"], transforms: sqlTransforms),
            InspectionRule(
                builtIn: "sqli-schema-probe", "Reads of the database catalogue (information_schema, pg_catalog, ...)",
                regex:
                    #"\binformation_schema\b|\bpg_catalog\b|\bsqlite_master\b|\bmysql\.user\b|\bsys\.(?:tables|objects|columns|databases)\b|\bsysobjects\b|\bxp_cmdshell\b"#,
                prefilter: ["information_schema", "pg_catalog", "sqlite_master", "mysql.user", "sys", "xp_cmdshell"],
                transforms: sqlTransforms),
        ]
    }

    /// Cross-site scripting: script tags, script URLs, event handlers, embedding tags and DOM access.
    package static var crossSiteScripting: [InspectionRule] {
        [
            InspectionRule(
                builtIn: "xss-script-tag", "A <script> element",
                regex: #"</?script\b"#, prefilter: ["<script", "</script"], transforms: markupTransforms),
            InspectionRule(
                builtIn: "xss-script-uri", "A javascript:/vbscript: URL or a data:text/html URL",
                regex: #"(?:^|[^a-z0-9_])(?:java|vb|live)[\t\n\r]*script[\t\n\r]*:(?![\s]|$)|\bdata:\s*text/html\b"#,
                prefilter: ["script", "data:"], transforms: markupTransforms),
            InspectionRule(
                builtIn: "xss-event-handler",
                "An on*= event handler inside a tag (<img onerror=...>, <svg/onload=...>)",
                // Bounded, tag-local scan: no quadratic backtracking on long text full of "<".
                regex: #"<[a-z][^<>]{0,400}?[\s/"'`]on[a-z]{3,}\s*="#, prefilter: ["<"],
                transforms: markupTransforms),
            InspectionRule(
                builtIn: "xss-embedding-tag",
                "Tags that load or run foreign content (<iframe>, <object>, <embed>, ...)",
                regex:
                    #"<(?:iframe|frame|frameset|object|embed|applet)\b|<(?:base|meta)\b[^<>]{0,200}?(?:href|http-equiv)\s*="#,
                prefilter: ["<iframe", "<frame", "<object", "<embed", "<applet", "<base", "<meta"],
                transforms: markupTransforms),
            InspectionRule(
                builtIn: "xss-dom-access", "Script reaching for cookies or the page (document.cookie, alert(1), ...)",
                regex:
                    #"\bdocument\.(?:cookie|domain|location|write(?:ln)?\s*\()|\bwindow\.location\b|\bstring\.fromcharcode\s*\(|\b(?:alert|prompt|confirm)\(\s*(?:\d+\s*\)|document\.|window\.)"#,
                prefilter: ["document", "window", "fromcharcode", "alert(", "prompt(", "confirm("],
                transforms: markupTransforms),
        ]
    }

    /// Path traversal: dot-dot segments (any encoding), well-known sensitive files and null bytes.
    package static var pathTraversal: [InspectionRule] {
        [
            InspectionRule(
                builtIn: "traversal-dot-segment", "A ../ or ..\\ segment, also percent-encoded (..%2f, %2e%2e/)",
                regex: #"(?:^|[/\\])\.\.;?(?:[/\\]|$)"#, prefilter: [".."], transforms: [.urlDecode]),
            InspectionRule(
                builtIn: "traversal-sensitive-file", "Well-known sensitive files (/etc/passwd, win.ini, /.git/, /.env)",
                regex:
                    #"/etc/(?:passwd|shadow|group|hosts|issue|sudoers)\b|/proc/self/|\b(?:win|boot|system)\.ini\b|[/\\]windows[/\\]system32\b|(?:^|/)\.(?:git|svn|hg)(?:/|$)|(?:^|/)\.(?:env|htaccess|htpasswd|ds_store)\b"#,
                prefilter: ["etc/", "proc/", ".ini", "system32", ".git", ".svn", ".hg", ".env", ".ht", ".ds_store"],
                transforms: [.urlDecode, .lowercase], targets: [.path, .query]),
            InspectionRule(
                builtIn: "traversal-null-byte", "A null byte (%00), which truncates file names in native code",
                literal: "\u{0}", transforms: [.urlDecode], targets: [.path, .query, .body]),
        ]
    }

    /// Known vulnerability scanners, by user agent.
    package static var scanners: [InspectionRule] {
        let names = [
            "sqlmap", "nikto", "nmap", "masscan", "zgrab", "nuclei", "dirbuster", "gobuster", "wpscan", "acunetix",
            "nessus", "openvas", "w3af",
        ]
        return [
            InspectionRule(
                builtIn: "scanner-user-agent", "User agent of a known vulnerability scanner",
                regex: #"\b(?:"# + names.joined(separator: "|") + #")\b"#, prefilter: names,
                transforms: [.lowercase], targets: [.header("user-agent")])
        ]
    }

    /// Builds a built-in rule without the throwing validation: built-in rules are checked by tests instead.
    private init(
        builtIn id: String,
        _ description: String,
        regex: String? = nil,
        literal: String? = nil,
        prefilter: [String] = [],
        transforms: [InspectionTransform],
        targets: [InspectionTarget] = parameterTargets
    ) {
        self.id = id
        self.description = description
        self.targets = targets
        self.matcher = regex.map(InspectionMatcher.regex) ?? .literal(literal ?? "")
        self.transforms = transforms
        self.prefilter = prefilter
        self.action = .block
        self.methods = []
    }
}
