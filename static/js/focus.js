// Keeps a keyboard user's place across htmx swaps. A swap that replaces the control that had
// focus (Show and Regenerate on a subscription's keys, Refresh now and Forget on a console
// token) left focus on the page's body, so the next Tab started again at "Skip to content".
// htmx puts focus back itself only on a control with an id that is still there; otherwise
// the region swapped in takes focus (without scrolling), and Tab goes on from inside it.
(function () {
  "use strict";

  var region = null;  // the id of the swap's target, when focus was inside it

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var focused = document.activeElement;
    region = target && target.id && focused && focused !== document.body &&
      target.contains(focused) ? target.id : null;
  });

  document.addEventListener("htmx:afterSwap", function () {
    var id = region;
    region = null;
    var focused = document.activeElement;
    if (!id || (focused && focused !== document.body && document.contains(focused))) return;
    var swapped = document.getElementById(id);
    if (!swapped) return;
    if (!swapped.hasAttribute("tabindex")) swapped.setAttribute("tabindex", "-1");
    swapped.focus({ preventScroll: true });
  });
})();
