// Messaging pages: the template editor's live preview and the schedule form's time zone.
(function () {
  "use strict";

  // Schedule forms send a zone-less local time plus the browser's offset from UTC in minutes.
  document.querySelectorAll("[data-timezone-offset]").forEach(function (input) {
    input.value = String(new Date().getTimezoneOffset());
  });

  var form = document.querySelector("[data-preview-form]");
  if (!form) return;
  var frame = document.querySelector("[data-preview-frame]");
  var subject = document.querySelector("[data-preview-subject]");
  var error = document.querySelector("[data-preview-error]");
  var timer = null;
  var sequence = 0;

  function field(name) {
    var element = form.elements.namedItem(name);
    return element ? element.value : "";
  }

  function escapeText(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function refresh() {
    var mine = ++sequence;
    var body = { subject: field("subject"), text: field("text") };
    if (field("html") !== "") body.html = field("html");
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (json) { return { ok: response.ok, json: json }; });
    }).then(function (result) {
      if (mine !== sequence) return;
      if (!result.ok) {
        var issues = result.json.errors || [];
        error.textContent = issues.length
          ? issues.map(function (issue) { return issue.field + ": " + issue.message; }).join("; ")
          : (result.json.detail || "");
        return;
      }
      error.textContent = "";
      subject.textContent = result.json.subject;
      frame.srcdoc = result.json.html || ("<pre>" + escapeText(result.json.text) + "</pre>");
    }).catch(function () {});
  }

  form.querySelectorAll("[data-preview-source]").forEach(function (element) {
    element.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    });
  });
})();
