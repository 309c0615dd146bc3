/* The assessment scheme editor (templates/supervision/assessment_form.html): sums the weights of
 * the indicator rows as they are typed (rows ticked for deletion count nothing) and marks the sum
 * when it is not 100. The server checks the same rule; this only saves a round trip. A file, not
 * inline: the Content-Security-Policy allows scripts from this site only. */
(function () {
  "use strict";

  function rows() {
    return document.querySelectorAll("[data-indicator-row]");
  }

  function update() {
    var out = document.querySelector("[data-weight-total]");
    if (!out) return;
    var total = 0;
    rows().forEach(function (row) {
      var del = row.querySelector("input[type=checkbox][name$='-DELETE']");
      var weight = row.querySelector("input[data-weight]");
      if (!weight || (del && del.checked)) return;
      var value = parseFloat(weight.value);
      if (!isNaN(value)) total += value;
    });
    total = Math.round(total * 10) / 10;
    out.textContent = String(total);
    var box = out.parentElement;
    if (box) {
      box.classList.toggle("alert-success", total === 100);
      box.classList.toggle("alert-warning", total !== 100);
      box.classList.toggle("alert-secondary", false);
    }
    out.setAttribute("data-ok", total === 100 ? "1" : "0");
  }

  function init() {
    var form = document.querySelector("[data-testid=assessment-form]");
    if (!form) return;
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
