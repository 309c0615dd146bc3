/* Section tabs (templates/partials/subnav.html) wider than the screen scroll sideways. The side
 * that has more tabs fades out (classes pe-subnav-more-start / pe-subnav-more-end, see
 * partyedu.css), so a phone user sees there is more to swipe to. app.js scrolls the current tab
 * into view on load; the scroll that causes updates the fades here. A file, not inline: the
 * Content-Security-Policy allows scripts from this site only. */
(function () {
  "use strict";

  function markEdges(list) {
    var hidden = list.scrollWidth - list.clientWidth;
    list.classList.toggle("pe-subnav-more-start", list.scrollLeft > 1);
    list.classList.toggle("pe-subnav-more-end", list.scrollLeft < hidden - 1);
  }

  function markAll() {
    document.querySelectorAll(".pe-subnav").forEach(markEdges);
  }

  // Scroll events do not bubble; one capturing listener sees every list, HTMX-swapped ones too.
  document.addEventListener("scroll", function (event) {
    var list = event.target;
    if (list.classList && list.classList.contains("pe-subnav")) markEdges(list);
  }, { capture: true, passive: true });
  window.addEventListener("resize", markAll);
  document.addEventListener("htmx:load", markAll);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", markAll);
  else markAll();
})();
