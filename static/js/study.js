/* Small helpers of the study pages; every page works without them.
 *
 * - [data-all-present]: the 全部出席 button of the attendance screen ticks 出席 for every member.
 * - [data-check-all]: a 全选 box ticks every enabled [data-pick] box of its form.
 * - [data-fullscreen="<selector>"]: shows the element full screen (a projector).
 * - [data-activity-form]: moving the start time moves the end time by as much, so the duration
 *   stays as it was (two hours by default). */
(function () {
  "use strict";

  function show(selector) {
    document.querySelectorAll(selector).forEach(function (el) { el.hidden = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    show("[data-all-present]");
    show("[data-check-all-wrap]");
    if (document.fullscreenEnabled) show("[data-fullscreen]");

    var start = document.querySelector("[data-activity-form] input[name=start_time]");
    var end = document.querySelector("[data-activity-form] input[name=end_time]");
    if (start && end) {
      var minutes = function (value) {
        var parts = (value || "").split(":");
        return parts.length < 2 ? null : parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10);
      };
      var previous = minutes(start.value);
      start.addEventListener("change", function () {
        var now = minutes(start.value), until = minutes(end.value);
        if (now !== null && previous !== null && until !== null && until > previous) {
          var moved = Math.min(until + (now - previous), 23 * 60 + 59);
          if (moved > now) {
            end.value = String(Math.floor(moved / 60)).padStart(2, "0") + ":" + String(moved % 60).padStart(2, "0");
          }
        }
        previous = now;
      });
    }
  });

  document.addEventListener("click", function (event) {
    var all = event.target.closest("[data-all-present]");
    if (all) {
      all.form.querySelectorAll("input[data-mark=present]").forEach(function (radio) { radio.checked = true; });
      return;
    }
    var full = event.target.closest("[data-fullscreen]");
    if (full) {
      var stage = document.querySelector(full.dataset.fullscreen);
      if (stage && stage.requestFullscreen) stage.requestFullscreen();
    }
  });

  document.addEventListener("change", function (event) {
    var box = event.target.closest("[data-check-all]");
    if (!box) return;
    box.form.querySelectorAll("input[data-pick]:not(:disabled)").forEach(function (pick) { pick.checked = box.checked; });
  });
})();
