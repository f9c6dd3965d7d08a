// The try-it console's small behaviours. Everything works without this file; it adds:
// the implicit grant's hand-over (the fragment is only visible to the browser), a live
// expiry countdown, one body editor at a time, showing 4xx/5xx console answers, and marking
// the fields a refused call names.
(function () {
  "use strict";

  // Implicit grant: hand the fragment to the server with fetch (no history entry, no form
  // data kept for resubmission), wipe it from the address bar, then replace this page with
  // the operation page, so the token stays nowhere in the browser.
  var handover = document.querySelector("form[data-console-implicit]");
  var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  if (handover) {
    window.history.replaceState(null, "", window.location.pathname);
    if (!params.has("state")) {
      var nothing = document.querySelector("[data-console-nothing]");
      if (nothing) nothing.hidden = false;
    } else {
      var body = new URLSearchParams(new FormData(handover));
      params.forEach(function (value, name) { body.append(name, value); });
      params = null;
      fetch(handover.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
      }).then(function (response) {
        return response.json();
      }).then(function (data) {
        if (data.redirect) {
          window.location.replace(data.redirect);
          return;
        }
        var box = document.querySelector("[data-console-error]");
        box.textContent = data.error || "The token could not be obtained.";
        box.hidden = false;
        var back = document.querySelector("[data-console-back]");
        if (data.back) back.href = data.back;
        back.hidden = false;
      });
    }
  }

  function text(seconds) {
    if (seconds <= 0) return "expired";
    var m = Math.floor(seconds / 60), s = seconds % 60, h = Math.floor(m / 60);
    if (h) return h + " h " + String(m % 60).padStart(2, "0") + " min";
    return m ? m + " min " + String(s).padStart(2, "0") + " s" : s + " s";
  }

  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll(".console-countdown[data-expires-at]").forEach(function (el) {
      var at = parseFloat(el.dataset.expiresAt);
      if (!isNaN(at)) el.textContent = text(Math.floor(at - now));
    });
  }

  function editors(root) {
    root.querySelectorAll(".console-form").forEach(function (form) {
      form.classList.add("js-editors");
      var checked = form.querySelector("input[name=media_type]:checked");
      form.querySelectorAll(".console-editor").forEach(function (ed) {
        ed.hidden = !!checked && ed.dataset.editorIndex !== checked.dataset.mediaIndex;
      });
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[name=media_type]")) editors(document);
  });
  function inConsole(event) {
    var target = event.detail.target;
    return !!(target && target.closest && target.closest("[data-console]"));
  }
  // 404: the operation went away since the page was drawn; said inline. Caught on the way
  // down, before django-htmx's DEBUG handler on document swaps the whole page for a 404.
  window.addEventListener("htmx:beforeOnLoad", function (event) {
    if (event.detail.xhr.status === 404 && inConsole(event)) event.stopPropagation();
  }, true);
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    // 422: the console refused the input (shown inline); 502: the call failed on its way.
    if (inConsole(event) && (status === 422 || status === 502 || status === 404)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // A call refused for values that fail the schema: each field at fault is marked
  // aria-invalid and described by the messages about it (the answer's items name it in
  // data-console-field), so a screen reader finds it; the next answer clears what was fixed.
  function unmark(field) {
    var before = field.dataset.consoleInvalid;
    delete field.dataset.consoleInvalid;
    field.removeAttribute("aria-invalid");
    if (before) field.setAttribute("aria-describedby", before);
    else field.removeAttribute("aria-describedby");
  }
  function mark(field, ids) {
    var before = field.getAttribute("aria-describedby") || "";
    field.dataset.consoleInvalid = before;
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", (before + " " + ids).trim());
  }
  function markInvalid() {
    var form = document.getElementById("console-form");
    if (!form) return;
    form.querySelectorAll("[data-console-invalid]").forEach(unmark);
    var fields = {};
    document.querySelectorAll("#console-result [data-console-field]").forEach(function (item) {
      var name = item.dataset.consoleField;
      fields[name] = ((fields[name] || "") + " " + item.id).trim();
    });
    Object.keys(fields).forEach(function (name) {
      form.querySelectorAll('[name="' + CSS.escape(name) + '"]').forEach(function (field) {
        mark(field, fields[name]);
      });
    });
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    tick();
    if (event.detail.target && event.detail.target.id === "console-response") markInvalid();
  });
  editors(document);
  tick();
  window.setInterval(tick, 1000);
})();
