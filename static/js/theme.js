// Theme: the saved choice, else the system's. Runs in <head> so the page never flashes.
(function () {
  var saved = null;
  try { saved = localStorage.getItem("theme"); } catch (e) {}
  if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;

  document.addEventListener("DOMContentLoaded", function () {
    // The toggle flips what is shown. Flipped back to what the system shows, it forgets the
    // choice and follows the system again (a saved "light" would stay light at night).
    var toggle = document.querySelector("[data-theme-toggle]");
    var system = window.matchMedia("(prefers-color-scheme: dark)");
    function label() {
      var chosen = document.documentElement.dataset.theme;
      var shown = chosen || (system.matches ? "dark" : "light");
      toggle.title = (chosen ? "Theme: " + chosen : "Theme: as the system") +
        " · click for " + (shown === "dark" ? "light" : "dark");
    }
    if (toggle) {
      label();
      toggle.addEventListener("click", function () {
        var root = document.documentElement;
        var dark = root.dataset.theme ? root.dataset.theme === "dark" : system.matches;
        var next = dark ? "light" : "dark";
        if ((next === "dark") === system.matches) {
          delete root.dataset.theme;
          try { localStorage.removeItem("theme"); } catch (e) {}
        } else {
          root.dataset.theme = next;
          try { localStorage.setItem("theme", next); } catch (e) {}
        }
        label();
      });
    }

    // "/" focuses the page's search or filter box.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      var tag = (event.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
      var box = document.querySelector("[data-nav-filter], [data-shortcut='/']");
      if (box) { event.preventDefault(); box.focus(); }
    });

    // The account menu (a <details>) closes as a menu does: Escape inside it, focus back on
    // its button, or a click anywhere outside it.
    var menu = document.querySelector("details.account-menu");
    if (menu) {
      menu.addEventListener("keydown", function (event) {
        if (event.key !== "Escape" || !menu.open) return;
        menu.open = false;
        menu.querySelector("summary").focus();
      });
      document.addEventListener("click", function (event) {
        if (menu.open && !menu.contains(event.target)) menu.open = false;
      });
    }

    // Version pickers submit on change.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
})();
