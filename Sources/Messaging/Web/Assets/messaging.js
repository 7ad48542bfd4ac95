// Messaging pages: the template editor's live preview and the schedule form's time zone.
(function () {
  "use strict";

  // Schedule forms send a zone-less local time plus the browser's offset from UTC in minutes.
  document.querySelectorAll("[data-timezone-offset]").forEach(function (input) {
    input.value = String(new Date().getTimezoneOffset());
  });

  // A campaign's results page follows the campaign live: counts after every batch, a reload when its status
  // changes (server-sent events from /api/v1/messaging/stream). What happened between the page's rendering and the
  // stream's start (a small campaign can be sent by then) is caught up from the API when the stream opens, and
  // every 5 seconds while it is sending or scheduled, in case the stream drops events or cannot connect.
  var results = document.querySelector("[data-live-campaign]");
  if (results) {
    var campaign = results.getAttribute("data-live-campaign");
    var rendered = results.getAttribute("data-campaign-status");
    var names = { sent: "delivered" };
    var source = null;
    var leaving = false;
    var show = function (counts) {
      Object.keys(counts).forEach(function (key) {
        var cell = results.querySelector("[data-count='" + (names[key] || key) + "'] dd");
        if (cell && typeof counts[key] === "number") cell.textContent = String(counts[key]);
      });
    };
    var reload = function () {
      if (leaving) return;
      leaving = true;
      if (source) source.close();
      window.location.reload();
    };
    var api = "/api/v1/messaging/campaigns/" + encodeURIComponent(campaign);
    var get = function (url) {
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; });
    };
    var catchUp = function () {
      get(api).then(function (current) {
        if (current && rendered && current.status !== rendered) { reload(); return; }
        return get(api + "/results").then(function (counts) { if (counts) show(counts); });
      }).catch(function () {});
    };
    if (window.EventSource) {
      source = new EventSource("/api/v1/messaging/stream?types=messaging.campaign.*");
      var mine = function (event) {
        try { return JSON.parse(event.data).data.id === campaign; } catch (error) { return false; }
      };
      source.addEventListener("open", catchUp);
      source.addEventListener("messaging.campaign.progressed", function (event) {
        if (mine(event)) show(JSON.parse(event.data).data.results);
      });
      source.addEventListener("messaging.campaign.status_changed", function (event) {
        if (mine(event)) reload();
      });
    }
    if ((rendered === "sending" || rendered === "scheduled") && window.fetch) window.setInterval(catchUp, 5000);
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
