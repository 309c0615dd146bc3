// 现场知识竞赛大屏: a full-screen button, and a countdown that ticks between the server's
// one-second polls (the server's figure replaces it at every poll, so a reload resumes).
(function () {
  "use strict";
  var button = document.querySelector("[data-live-fullscreen]");
  var screen = document.getElementById("live-screen");
  if (button && screen && screen.requestFullscreen) {
    button.addEventListener("click", function () {
      screen.requestFullscreen().catch(function () { /* refused by the browser: stay windowed */ });
    });
  }
  window.setInterval(function () {
    var counter = document.querySelector("[data-testid='countdown']");
    if (!counter) return;
    var left = parseInt(counter.getAttribute("data-remaining"), 10);
    if (isNaN(left) || left <= 0) return;
    left -= 0.5;
    counter.setAttribute("data-remaining", String(left));
    counter.textContent = String(Math.ceil(left));
  }, 500);
})();
