// Messaging pages: the template editor's live preview and the schedule form's time zone.
(function () {
  "use strict";

  // Schedule forms send a zone-less local time plus the browser's offset from UTC in minutes.
  document.querySelectorAll("[data-timezone-offset]").forEach(function (input) {
    input.value = String(new Date().getTimezoneOffset());
  });

  // A campaign's results page follows the campaign live: counts after every batch, a reload when its status
  // changes (server-sent events from /api/v1/messaging/stream).
  var results = document.querySelector("[data-live-campaign]");
  if (results && window.EventSource) {
    var campaign = results.getAttribute("data-live-campaign");
    var names = { sent: "delivered" };
    var source = new EventSource("/api/v1/messaging/stream?types=messaging.campaign.*");
    var mine = function (event) {
      try { return JSON.parse(event.data).data.id === campaign; } catch (error) { return false; }
    };
    source.addEventListener("messaging.campaign.progressed", function (event) {
      if (!mine(event)) return;
      var counts = JSON.parse(event.data).data.results;
      Object.keys(counts).forEach(function (key) {
        var cell = results.querySelector("[data-count='" + (names[key] || key) + "'] dd");
        if (cell) cell.textContent = String(counts[key]);
      });
    });
    source.addEventListener("messaging.campaign.status_changed", function (event) {
      if (mine(event)) { source.close(); window.location.reload(); }
    });
  }

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
