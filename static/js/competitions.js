/* Competition pages: the rubric form and the reviewer's scoring form (each runs only where its form is). */
/* The rubric's weights summed as they are typed, and a button for one more row. */
(function () {
  "use strict";
  var form = document.querySelector("[data-rubric-form]");
  if (!form) return;
  var rows = form.querySelector("[data-rubric-rows]");
  var total = form.querySelector("input[name=criteria-TOTAL_FORMS]");
  var max = parseInt(form.querySelector("input[name=criteria-MAX_NUM_FORMS]").value, 10);
  var add = form.querySelector("[data-rubric-add]");
  var template = form.querySelector("[data-rubric-template]");
  function update() {
    var sum = 0, any = false;
    form.querySelectorAll("input[data-weight]").forEach(function (input) {
      var n = parseInt(input.value, 10);
      if (!isNaN(n)) { sum += n; any = true; }
    });
    form.querySelector("[data-rubric-sum]").textContent = any ? sum : "0";
    form.querySelector("[data-rubric-warn]").hidden = sum === 100;
    form.querySelector("[data-rubric-ok]").hidden = sum !== 100;
    add.hidden = parseInt(total.value, 10) >= max;
  }
  add.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, index));
    total.value = index + 1;
    update();
    rows.lastElementChild.querySelector("input").focus();
  });
  form.addEventListener("input", update);
  update();
})();

/* The weighted total as the scores are typed (the server computes the one that counts). */
(function () {
  "use strict";
  var form = document.querySelector("[data-score-form]");
  if (!form) return;
  function update() {
    var total = 0, complete = true;
    form.querySelectorAll("input[data-score]").forEach(function (input) {
      var value = parseFloat(input.value);
      if (isNaN(value)) { complete = false; return; }
      total += value * parseInt(input.dataset.weight, 10) / 100;
    });
    form.querySelector("[data-score-total]").textContent = complete ? total.toFixed(3).replace(/\.?0+$/, "") : "—";
  }
  form.addEventListener("input", update);
  update();
})();
