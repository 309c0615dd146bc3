/* The question form and the paper form of the organiser's pages (templates/exams/question_form.html,
 * paper_form.html). Without JavaScript both forms work: every field shows and the server ignores
 * those of another type or kind. With it:
 * - the question form shows only the fields of the chosen type (elements marked data-qtypes);
 * - the paper form shows the fixed part or the rules part (data-kind-section), adds rule rows from
 *   the <template> (the formset's empty form), and the 加入 buttons of the question search write
 *   "编号 分值" lines into the 试题及分值 box.
 * A file, not inline: the CSP allows only this site's scripts. */
(function () {
  "use strict";

  function wrapper(el) {
    return el.closest(".mb-3") || el;
  }

  function setupQuestionForm(form) {
    var select = form.querySelector("select[name=qtype]");
    var hidden = form.querySelector("input[name=qtype][type=hidden]");
    function qtype() {
      if (select) return select.value;
      return hidden ? hidden.value : "";
    }
    function update() {
      var current = qtype();
      form.querySelectorAll("[data-qtypes]").forEach(function (el) {
        var show = el.getAttribute("data-qtypes").split(" ").indexOf(current) !== -1;
        wrapper(el).classList.toggle("d-none", !show);
      });
    }
    if (select) select.addEventListener("change", update);
    update();
  }

  function setupPaperForm(form) {
    var radios = form.querySelectorAll("input[name=kind]");
    function kind() {
      var value = "fixed";
      radios.forEach(function (r) { if (r.checked) value = r.value; });
      return value;
    }
    function update() {
      var current = kind();
      document.querySelectorAll("[data-kind-section]").forEach(function (el) {
        el.classList.toggle("d-none", el.getAttribute("data-kind-section") !== current);
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();

    var addButton = form.querySelector("[data-add-rule]");
    var template = document.getElementById("rule-template");
    var rows = document.getElementById("rule-rows");
    var total = form.querySelector("input[name=rules-TOTAL_FORMS]");
    var max = form.querySelector("input[name=rules-MAX_NUM_FORMS]");
    if (addButton && template && rows && total) {
      addButton.classList.remove("d-none");
      addButton.addEventListener("click", function () {
        var index = parseInt(total.value, 10);
        if (max && index >= parseInt(max.value, 10)) return;
        var html = template.innerHTML.replace(/__prefix__/g, String(index));
        rows.insertAdjacentHTML("beforeend", html);
        var added = rows.lastElementChild;
        var number = added && added.querySelector("[data-rule-number]");
        if (number) number.textContent = String(index + 1);
        total.value = String(index + 1);
      });
    }

    var items = form.querySelector("textarea[name=items]");
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-pick-question]");
      if (!button || !items) return;
      var id = button.getAttribute("data-pick-question");
      var scoreInput = document.getElementById("pick-score");
      var score = scoreInput && scoreInput.value ? scoreInput.value : "2";
      var lines = items.value.split("\n").filter(function (line) { return line.trim() !== ""; });
      var taken = lines.some(function (line) { return line.trim().split(/\s+/)[0] === id; });
      if (!taken) {
        lines.push(id + " " + score);
        items.value = lines.join("\n") + "\n";
      }
      button.disabled = true;
      button.textContent = "已加入";
    });
  }

  function init() {
    document.querySelectorAll("[data-question-form]").forEach(setupQuestionForm);
    document.querySelectorAll("[data-paper-form]").forEach(setupPaperForm);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
