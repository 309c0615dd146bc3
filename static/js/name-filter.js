/* The name filter of the attendance and QR check-in pages: typing narrows a list of names as you
 * type, by name (张三, 三), full pinyin (zhangsan, zhang) or pinyin initials (zs).
 *
 * Markup: a box [data-name-filter-box] (hidden until this script shows it: without JavaScript the
 * list is simply complete, in pinyin order) holding an <input data-name-filter-input="<selector>">
 * and a [data-name-filter-status] line; the selector names the container whose
 * [data-name-filter="<name> <pinyin words…>"] items are filtered. The first word is the name
 * (matched anywhere in it), the others are pinyin (matched from their start). Items hidden by the
 * filter are still in their form and still submitted. A container replaced by HTMX (the QR page
 * refreshes every 25 seconds) is filtered again. */
(function () {
  "use strict";

  function matches(text, query) {
    var words = (text || "").split(" ");
    if (words[0].indexOf(query) !== -1) return true;
    for (var i = 1; i < words.length; i++) {
      if (words[i] && words[i].lastIndexOf(query, 0) === 0) return true;
    }
    return false;
  }

  function apply(input) {
    var query = input.value.toLowerCase().replace(/\s+/g, "");
    var box = input.closest("[data-name-filter-box]");
    var status = box ? box.querySelector("[data-name-filter-status]") : null;
    var shown = 0;
    var total = 0;
    document.querySelectorAll(input.dataset.nameFilterInput).forEach(function (container) {
      container.querySelectorAll("[data-name-filter]").forEach(function (item) {
        var hit = !query || matches(item.dataset.nameFilter, query);
        item.hidden = !hit;
        total += 1;
        if (hit) shown += 1;
      });
    });
    if (!status) return;
    if (!query) status.textContent = "";
    else if (shown) status.textContent = "找到 " + shown + " 人（共 " + total + " 人）";
    else status.textContent = "没有找到“" + input.value.trim() + "”，可输入姓名、全拼或拼音首字母";
  }

  function applyAll() {
    document.querySelectorAll("input[data-name-filter-input]").forEach(apply);
  }

  function init() {
    document.querySelectorAll("[data-name-filter-box]").forEach(function (box) { box.hidden = false; });
    applyAll();
  }

  document.addEventListener("input", function (event) {
    var input = event.target.closest && event.target.closest("input[data-name-filter-input]");
    if (input) apply(input);
  });
  // Enter in the filter box must not submit the attendance form.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("input[data-name-filter-input]")) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:afterSettle", applyAll);

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
