/* Small helpers of the study pages; every page works without them.
 *
 * - [data-all-present]: the 全部出席 button of the attendance screen ticks 出席 for every member
 *   shown; rows hidden by the name filter (name-filter.js) keep their marks, and the
 *   [data-all-present-status] line says how many were set ("已将 N 人设为出席").
 * - [data-check-all]: a 全选 box ticks every enabled [data-pick] box of its form.
 * - [data-fullscreen="<selector>"]: shows the element full screen (a projector).
 * - [data-activity-form]: moving the start time moves the end time by as much, so the duration
 *   stays as it was (two hours by default).
 * - [data-study-part="type …"]: the 学习时长 field is shown only while the activity type is one
 *   whose hours are only its study part (or while it shows an error). */
(function () {
  "use strict";

  function show(selector) {
    document.querySelectorAll(selector).forEach(function (el) { el.hidden = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    show("[data-all-present]");
    show("[data-check-all-wrap]");
    if (document.fullscreenEnabled) show("[data-fullscreen]");

    var part = document.querySelector("[data-activity-form] [data-study-part]");
    var type = document.querySelector("[data-activity-form] select[name=activity_type]");
    if (part && type) {
      var studyTypes = part.dataset.studyPart.split(" ").filter(Boolean);
      var togglePart = function () {
        part.hidden = studyTypes.indexOf(type.value) === -1 && !part.querySelector(".invalid-feedback");
      };
      type.addEventListener("change", togglePart);
      togglePart();
    }

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

  // 全部出席 acts on what the secretary sees: a row hidden by the name filter is someone they did
  // not look at, so it keeps its mark.
  function markShownPresent(button) {
    var set = 0;
    var skipped = 0;
    button.form.querySelectorAll("input[data-mark=present]").forEach(function (radio) {
      if (radio.closest("[hidden]")) {
        skipped += 1;
        return;
      }
      radio.checked = true;
      set += 1;
    });
    var status = button.form.querySelector("[data-all-present-status]");
    if (status) {
      status.textContent = "已将 " + set + " 人设为出席" + (skipped ? "（未显示的 " + skipped + " 人未改动）" : "");
    }
  }

  document.addEventListener("click", function (event) {
    var all = event.target.closest("[data-all-present]");
    if (all) {
      markShownPresent(all);
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
