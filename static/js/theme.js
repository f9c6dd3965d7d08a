// Theme: the saved choice, else the system's. Runs in <head> so the page never flashes.
(function () {
  var saved = null;
  try { saved = localStorage.getItem("theme"); } catch (e) {}
  if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector("[data-theme-toggle]");
    if (toggle) toggle.addEventListener("click", function () {
      var dark = document.documentElement.dataset.theme
        ? document.documentElement.dataset.theme === "dark"
        : window.matchMedia("(prefers-color-scheme: dark)").matches;
      var next = dark ? "light" : "dark";
      document.documentElement.dataset.theme = next;
      try { localStorage.setItem("theme", next); } catch (e) {}
    });

    // "/" focuses the page's search or filter box.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      var tag = (event.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
      var box = document.querySelector("[data-nav-filter], [data-shortcut='/']");
      if (box) { event.preventDefault(); box.focus(); }
    });

    // Version pickers submit on change.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });

    // Filter the operations navigation as you type.
    var filter = document.querySelector("[data-nav-filter]");
    if (filter) {
      filter.hidden = false;
      var items = Array.prototype.slice.call(document.querySelectorAll(".nav-tree li[data-filter]"));
      var groups = Array.prototype.slice.call(document.querySelectorAll(".nav-group"));
      filter.addEventListener("input", function () {
        var terms = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
        items.forEach(function (li) {
          var text = li.getAttribute("data-filter");
          li.hidden = !terms.every(function (t) { return text.indexOf(t) !== -1; });
        });
        groups.forEach(function (group) {
          group.hidden = !group.querySelector("li[data-filter]:not([hidden])");
          if (terms.length) group.querySelector("details").open = true;
        });
      });
      // Bring the current operation into view inside the sidebar only (not the page).
      var current = document.querySelector(".nav-tree a[aria-current='page']");
      var scroller = document.querySelector(".nav-scroll");
      if (current && scroller) scroller.scrollTop = current.offsetTop - scroller.offsetTop - scroller.clientHeight / 2;
    }
  });
})();
