// The viewer's time zone for pages that show times (portal/lib/viewertz.py reads the cookie).
// Asked once the page has loaded, when the browser is idle: the first Intl.DateTimeFormat of a
// new renderer loads ICU's zone data, which in <head> held the parser up by 20 to 60 ms on the
// Kubernetes API page. The server reads the cookie on the next request either way.
(function () {
  function store() {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      // IANA names are plain cookie characters (letters, digits, / _ + -): stored as they are.
      if (zone && /^[A-Za-z0-9\/_+\-]{1,64}$/.test(zone) && document.cookie.indexOf("tz=" + zone) === -1) {
        document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
      }
    } catch (e) {}
  }
  // After the next frame is painted (a task posted from requestAnimationFrame runs after it),
  // then when idle: a long page's load event can come before its list is painted.
  function later() {
    window.requestAnimationFrame(function () {
      window.setTimeout(function () {
        if (window.requestIdleCallback) window.requestIdleCallback(store, { timeout: 1000 });
        else store();
      }, 0);
    });
  }
  if (document.readyState === "complete") later();
  else window.addEventListener("load", later);
})();
