// The try-it console's small behaviours. Everything works without this file; it adds:
// the implicit grant's hand-over (the fragment is only visible to the browser), a live
// expiry countdown, one body editor at a time, and showing 4xx/5xx console answers.
(function () {
  "use strict";

  // Implicit grant: post the fragment to the server and wipe it from the address bar, so
  // the token stays neither in the URL nor in the history.
  var handover = document.querySelector("form[data-console-implicit]");
  if (handover && !handover.dataset.sent) {
    handover.dataset.sent = "1";
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    window.history.replaceState(null, "", window.location.pathname);
    params.forEach(function (value, name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      handover.appendChild(input);
    });
    handover.submit();
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
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var status = event.detail.xhr.status;
    if (target && target.closest("[data-console]") && (status === 400 || status === 502)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSwap", function () { tick(); });
  editors(document);
  tick();
  window.setInterval(tick, 1000);
})();
