// The reference pages' side navigation (inline in the page). Nothing runs at load but, on an
// operation page, scrolling its link into view: a folded group fetches its links when
// first opened, and the filter asks the server, so the page never holds every link twice.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var filter = document.querySelector("[data-nav-filter]");
    var scroller = document.querySelector(".nav-scroll");
    if (!filter || !scroller) return;
    var base = filter.getAttribute("data-url");
    var pending = null; // the filter's request in flight: a newer query replaces it

    function load(params, done, controller) {
      fetch(base + (base.indexOf("?") < 0 ? "?" : "&") + params, controller ? { signal: controller.signal } : {})
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(done)
        .catch(function () { /* a folded group keeps its link to the API page */ });
    }

    // "toggle" does not bubble: listen in the capture phase for every group at once.
    scroller.addEventListener("toggle", function (event) {
      var group = event.target;
      var more = group.open && group.getAttribute && group.getAttribute("data-g") !== null && group.querySelector(".nav-more");
      if (!more) return;
      load("g=" + group.getAttribute("data-g"), function (html) {
        if (more.isConnected) more.outerHTML = html;
      });
    }, true);

    var timer = null;
    filter.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (pending) pending.abort();
        pending = new AbortController();
        load("q=" + encodeURIComponent(filter.value.trim()), function (html) {
          var tree = document.getElementById("nav-tree");
          if (tree) tree.outerHTML = html;
        }, pending);
      }, 150);
    });

    // Bring the current operation into view inside the sidebar only (not the page).
    var current = scroller.querySelector("a[aria-current='page']");
    if (current) scroller.scrollTop = current.offsetTop - scroller.offsetTop - scroller.clientHeight / 2;
  });
})();
