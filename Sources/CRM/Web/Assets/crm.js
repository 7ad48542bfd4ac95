// CRM pages: every change goes to the JSON API (/api/v1/crm/...) with the session cookie; problems are shown
// next to their fields. The pipeline board moves cards by drag and drop or from the keyboard (a stage picker per
// card) and follows other users' moves live (server-sent events from /api/v1/messaging/stream).
(function () {
  "use strict";

  var errorBox = document.querySelector("[data-crm-error]");

  function showError(text) {
    if (!errorBox) { window.alert(text); return; }
    errorBox.textContent = text;
    errorBox.hidden = false;
    errorBox.scrollIntoView({ block: "nearest" });
  }

  function clearErrors(form) {
    if (errorBox) errorBox.hidden = true;
    if (!form) return;
    form.querySelectorAll(".field-error[data-js]").forEach(function (node) { node.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) { node.removeAttribute("aria-invalid"); });
  }

  // A problem+json answer: field messages under their inputs, the rest in the page's alert.
  function showProblem(problem, form) {
    var general = [];
    (problem.errors || []).forEach(function (issue) {
      var input = form && issue.field ? form.querySelector("[name='" + issue.field.split(/[.\[]/)[0] + "']") : null;
      if (!input) { general.push((issue.field ? issue.field + ": " : "") + issue.message); return; }
      input.setAttribute("aria-invalid", "true");
      var note = document.createElement("p");
      note.className = "field-error";
      note.setAttribute("data-js", "");
      note.textContent = issue.message;
      input.insertAdjacentElement("afterend", note);
    });
    if (general.length || !(problem.errors || []).length) {
      showError([problem.detail || problem.title || "The request failed"].concat(general).join(" — "));
    }
  }

  function api(method, url, body, type) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = type || "application/json";
      options.body = type ? body : JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (error) { json = null; }
        return { ok: response.ok, status: response.status, json: json };
      });
    });
  }

  function submitted(form, handler) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form);
      var button = event.submitter;
      if (button) button.disabled = true;
      handler(event).then(function (answer) {
        if (button) button.disabled = false;
        if (answer && !answer.ok) showProblem(answer.json || {}, form);
      }, function (error) {
        if (button) button.disabled = false;
        showError(String(error));
      });
    });
  }

  function values(form) {
    var body = {};
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (input) {
      if (input.type === "checkbox" || input.type === "file" || input.value.trim() === "") return;
      body[input.name] = input.value.trim();
    });
    return body;
  }

  // New records.
  document.querySelectorAll("form[data-api]").forEach(function (form) {
    submitted(form, function () {
      return api(form.getAttribute("data-method") || "POST", form.getAttribute("data-api"), values(form)).then(function (answer) {
        if (answer.ok) window.location.assign(form.getAttribute("data-then").replace("{id}", answer.json.id));
        return answer;
      });
    });
  });

  // One-click changes (a lead's status).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-patch]");
    if (!button) return;
    clearErrors(null);
    button.disabled = true;
    api("PATCH", button.getAttribute("data-patch"), JSON.parse(button.getAttribute("data-body"))).then(function (answer) {
      button.disabled = false;
      if (answer.ok) window.location.reload(); else showProblem(answer.json || {}, null);
    });
  });

  // A qualified lead becomes a contact, a company and a deal.
  document.querySelectorAll("form[data-convert]").forEach(function (form) {
    submitted(form, function () {
      var data = values(form);
      // "12500", "12500.5", "12500,50": whole units and at most two decimals, nothing else (no thousands marks).
      var match = /^(\d{1,13})(?:[.,](\d{1,2}))?$/.exec(String(data.amount || "").trim());
      var amount = match ? parseInt(match[1], 10) * 100 + parseInt((match[2] || "0").padEnd(2, "0"), 10) : -1;
      var deal = { value: { amount_minor: amount, currency: (data.currency || "").toUpperCase() } };
      if (data.name) deal.name = data.name;
      return api("POST", form.getAttribute("data-convert"), { deal: deal }).then(function (answer) {
        if (answer.ok) window.location.assign("/crm/deals/" + answer.json.deal.id);
        return answer;
      });
    });
  });

  // A deal's stage from its page.
  document.querySelectorAll("form[data-move]").forEach(function (form) {
    submitted(form, function () {
      var data = values(form);
      var body = { stage_id: data.stage_id };
      if (data.close_reason) body.close_reason = data.close_reason;
      return api("PATCH", form.getAttribute("data-move"), body).then(function (answer) {
        if (answer.ok) window.location.reload();
        return answer;
      });
    });
  });

  // A note, call, meeting, email or task on the record's timeline.
  document.querySelectorAll("form[data-activity]").forEach(function (form) {
    submitted(form, function () {
      var target = form.getAttribute("data-activity").split(":");
      var data = values(form);
      var body = { type: data.type, targets: [{ type: target[0], id: target[1] }] };
      if (data.subject) body.subject = data.subject;
      if (data.body) body.body = data.body;
      if (data.due_at) body.due_at = new Date(data.due_at).toISOString();
      return api("POST", "/api/v1/crm/activities", body).then(function (answer) {
        if (answer.ok) window.location.reload();
        return answer;
      });
    });
  });

  // Filters: blank fields are left out and spaces sent as %20 (a form would send "+", which the API keeps).
  document.querySelectorAll("form.crm-filters").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var pairs = [];
      form.querySelectorAll("input[name], select[name]").forEach(function (input) {
        if (input.value.trim() !== "") pairs.push(encodeURIComponent(input.name) + "=" + encodeURIComponent(input.value.trim()));
      });
      window.location.assign(form.getAttribute("action") + (pairs.length ? "?" + pairs.join("&") : ""));
    });
  });

  // Tables: select all, bulk actions, saved views.
  var all = document.querySelector("[data-select-all]");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name='select']").forEach(function (box) { box.checked = all.checked; });
    });
  }
  document.querySelectorAll("form[data-bulk]").forEach(function (form) {
    submitted(form, function () {
      var ids = Array.prototype.map.call(document.querySelectorAll("input[name='select']:checked"), function (box) { return box.value; });
      if (!ids.length) { showError(form.getAttribute("data-none") || "Select records first."); return Promise.resolve(null); }
      var action = form.querySelector("[name='action']").value;
      var body = { ids: ids };
      if (action === "delete") {
        if (!window.confirm("Delete " + ids.length + "?")) return Promise.resolve(null);
        body.delete = true;
      } else if (action === "tag") {
        var tag = form.querySelector("[name='tag']").value.trim();
        if (!tag) { showError("Type the tag to add."); return Promise.resolve(null); }
        body.add_tags = [tag];
      } else {
        body.patch = { status: action.split(":")[1] };
      }
      return api("POST", form.getAttribute("data-bulk"), body).then(function (answer) {
        if (!answer.ok) return answer;
        var result = form.querySelector("[data-bulk-result]");
        result.textContent = answer.json.succeeded + " ✓, " + answer.json.failed + " ✗";
        if (answer.json.failed === 0) { window.location.reload(); return answer; }
        showError(answer.json.results.filter(function (item) { return item.status >= 400; })
          .map(function (item) { return item.id + ": " + (item.detail || item.status); }).join("; "));
        return answer;
      });
    });
  });
  document.querySelectorAll("form[data-save-view]").forEach(function (form) {
    submitted(form, function () {
      var query = window.location.search.replace(/^\?/, "").split("&").filter(function (pair) {
        return pair && pair.indexOf("cursor=") !== 0;
      }).join("&");
      var body = { entity: form.getAttribute("data-save-view"), name: form.querySelector("[name='name']").value,
        query: query, shared: form.querySelector("[name='shared']").checked };
      return api("POST", "/api/v1/crm/views", body).then(function (answer) {
        if (answer.ok) window.location.reload();
        return answer;
      });
    });
  });

  // The pipeline board.
  var board = document.querySelector("[data-board]");
  if (board) {
    var dragging = null;
    var moving = 0;

    function column(stage) { return board.querySelector("[data-column='" + stage + "']"); }

    function recount() {
      board.querySelectorAll("[data-column]").forEach(function (section) {
        section.querySelector("[data-count]").textContent = String(section.querySelectorAll("[data-deal]").length);
      });
    }

    function move(deal, stage) {
      var card = board.querySelector("[data-deal='" + deal + "']");
      var target = column(stage);
      if (!card || !target || card.getAttribute("data-stage") === stage) return;
      var body = { stage_id: stage };
      if (target.getAttribute("data-kind") === "lost") {
        var reason = window.prompt(board.getAttribute("data-reason-prompt") || "Why was it lost?");
        if (!reason) return;
        body.close_reason = reason;
      }
      clearErrors(null);
      moving += 1;
      api("PATCH", "/api/v1/crm/deals/" + deal, body).then(function (answer) {
        moving -= 1;
        if (!answer.ok) { showProblem(answer.json || {}, null); return; }
        card.setAttribute("data-stage", stage);
        var picker = card.querySelector("[data-move-select]");
        if (picker) picker.value = stage;
        target.querySelector(".crm-cards").prepend(card);
        recount();
        var focus = card.querySelector("[data-move-select]") || card.querySelector("a");
        if (focus) focus.focus();
      });
    }

    board.querySelectorAll("[data-move-select]").forEach(function (picker) {
      picker.value = picker.closest("[data-deal]").getAttribute("data-stage");
    });
    board.addEventListener("click", function (event) {
      var button = event.target.closest("[data-move-button]");
      if (!button) return;
      var deal = button.getAttribute("data-move-button");
      move(deal, board.querySelector("[data-move-select='" + deal + "']").value);
    });
    board.addEventListener("dragstart", function (event) {
      var card = event.target.closest("[data-deal]");
      if (!card) return;
      dragging = card.getAttribute("data-deal");
      event.dataTransfer.setData("text/plain", dragging);
      event.dataTransfer.effectAllowed = "move";
      card.classList.add("crm-dragging");
    });
    board.addEventListener("dragend", function (event) {
      var card = event.target.closest("[data-deal]");
      if (card) card.classList.remove("crm-dragging");
      dragging = null;
      board.querySelectorAll(".crm-drop").forEach(function (node) { node.classList.remove("crm-drop"); });
    });
    board.addEventListener("dragover", function (event) {
      var target = event.target.closest("[data-column]");
      if (!target) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      target.classList.add("crm-drop");
    });
    board.addEventListener("dragleave", function (event) {
      var target = event.target.closest("[data-column]");
      if (target && !target.contains(event.relatedTarget)) target.classList.remove("crm-drop");
    });
    board.addEventListener("drop", function (event) {
      var target = event.target.closest("[data-column]");
      if (!target) return;
      event.preventDefault();
      target.classList.remove("crm-drop");
      var deal = event.dataTransfer.getData("text/plain") || dragging;
      if (deal) move(deal, target.getAttribute("data-column"));
    });

    // Other users' changes: the board is read again and swapped in (not while this user drags or moves).
    var timer = null;
    function refresh(done) {
      if (dragging || moving) { timer = setTimeout(function () { refresh(done); }, 500); return; }
      timer = null;
      fetch(window.location.href, { credentials: "same-origin" }).then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-board]");
          if (fresh && !dragging && !moving) {
            var focused = document.activeElement && document.activeElement.id;
            board.innerHTML = fresh.innerHTML;
            board.querySelectorAll("[data-move-select]").forEach(function (picker) {
              picker.value = picker.closest("[data-deal]").getAttribute("data-stage");
            });
            board.setAttribute("data-refreshed", String(Date.now()));
            if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
          }
          if (done) done();
        })
        .catch(function () { if (done) done(); });
    }
    if (window.EventSource) {
      var stream = new EventSource("/api/v1/messaging/stream?types=" + encodeURIComponent(board.getAttribute("data-live")));
      ["crm.deal.created", "crm.deal.updated", "crm.deal.deleted"].forEach(function (type) {
        stream.addEventListener(type, function () { if (!timer) timer = setTimeout(refresh, 150); });
      });
      // Changes made between this page's rendering and the stream's start (or while it reconnected) are read once
      // when it opens; the board says it is live after that.
      stream.addEventListener("open", function () {
        refresh(function () { board.setAttribute("data-live-open", "true"); });
      });
    }
  }

  // Files on a record: the file goes to the API as it is (its type as Content-Type), with the share sent shown.
  document.querySelectorAll("form[data-attach]").forEach(function (form) {
    submitted(form, function () {
      var file = form.querySelector("[name='file']").files[0];
      if (!file) return Promise.resolve(null);
      var progress = form.querySelector("[data-attach-progress]");
      return new Promise(function (resolve) {
        var request = new XMLHttpRequest();
        request.open("POST", form.getAttribute("data-attach") + "?name=" + encodeURIComponent(file.name));
        request.setRequestHeader("Accept", "application/json");
        request.setRequestHeader("Content-Type", file.type || "application/octet-stream");
        request.upload.onprogress = function (event) {
          if (progress && event.lengthComputable) progress.textContent = Math.round(100 * event.loaded / event.total) + " %";
        };
        request.onload = function () {
          var json = null;
          try { json = request.responseText ? JSON.parse(request.responseText) : null; } catch (error) { json = null; }
          var ok = request.status >= 200 && request.status < 300;
          if (ok) window.location.reload();
          else if (progress) progress.textContent = "";
          resolve({ ok: ok, status: request.status, json: json });
        };
        request.onerror = function () { resolve({ ok: false, status: 0, json: { detail: "network error" } }); };
        request.send(file);
      });
    });
  });
  document.querySelectorAll("[data-remove-attachment]").forEach(function (button) {
    button.addEventListener("click", function () {
      button.disabled = true;
      api("DELETE", button.getAttribute("data-remove-attachment")).then(function (answer) {
        if (answer.ok) window.location.reload();
        else { button.disabled = false; showProblem(answer.json || {}); }
      });
    });
  });

  // The import wizard: the file goes to the API as it is; the mapping starts a dry run or the import.
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    submitted(form, function () {
      var file = form.querySelector("[name='file']").files[0];
      if (!file) return Promise.resolve(null);
      var entity = form.querySelector("[name='entity']").value;
      return file.text().then(function (text) {
        return api("POST", "/api/v1/crm/imports?entity=" + entity + "&filename=" + encodeURIComponent(file.name), text, "text/csv");
      }).then(function (answer) {
        if (answer.ok) window.location.assign("/crm/import/" + answer.json.id);
        return answer;
      });
    });
  });
  document.querySelectorAll("form[data-start]").forEach(function (form) {
    submitted(form, function (event) {
      var mapping = {};
      form.querySelectorAll("[data-column]").forEach(function (select) {
        if (select.value) mapping[select.getAttribute("data-column")] = select.value;
      });
      var body = { mapping: mapping, dry_run: !event.submitter || event.submitter.value !== "false",
        on_duplicate: form.querySelector("[name='on_duplicate']").value };
      return api("POST", form.getAttribute("data-start"), body).then(function (answer) {
        if (answer.ok) window.location.reload();
        return answer;
      });
    });
  });
  var status = document.querySelector("[data-import]");
  if (status && ["queued", "running"].indexOf(status.getAttribute("data-status")) >= 0) {
    var poll = function () {
      api("GET", "/api/v1/crm/imports/" + status.getAttribute("data-import")).then(function (answer) {
        if (!answer.ok) return;
        var progress = answer.json.progress;
        Object.keys(progress).forEach(function (key) {
          var cell = status.querySelector("[data-count='" + key + "']");
          if (cell) cell.textContent = String(progress[key]);
        });
        status.querySelector("progress").value = progress.processed;
        if (["done", "failed"].indexOf(answer.json.status) >= 0) window.location.reload();
        else setTimeout(poll, 700);
      });
    };
    setTimeout(poll, 300);
  }
})();
