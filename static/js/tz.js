// The viewer's time zone for pages that show times (portal/lib/viewertz.py reads the cookie).
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    // IANA names are plain cookie characters (letters, digits, / _ + -): stored as they are.
    if (zone && /^[A-Za-z0-9\/_+\-]{1,64}$/.test(zone) && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) {}
})();
