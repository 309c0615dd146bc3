/* The score distribution of an exam's results page (templates/exams/results.html), drawn with
 * the vendored ECharts from the figures the page carries in a json_script block. A file, not
 * inline: the Content-Security-Policy allows scripts from this site only. */
(function () {
  "use strict";

  function draw() {
    var node = document.getElementById("results-data");
    var el = document.getElementById("chart-scores");
    if (!node || !el || typeof echarts === "undefined") return;
    var data = JSON.parse(node.textContent);
    var narrow = window.innerWidth < 576;
    el.style.height = (narrow ? 240 : 280) + "px";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      color: ["#b3131b"],
      tooltip: { trigger: "axis", formatter: "{b} 分：{c} 人" },
      grid: { left: 16, right: 16, top: 24, bottom: 16, containLabel: true },
      xAxis: { type: "category", data: data.labels, name: "分", axisLabel: { interval: 0, rotate: narrow ? 45 : 0 } },
      yAxis: { type: "value", name: "人", minInterval: 1 },
      series: [{ type: "bar", data: data.counts, barCategoryGap: "8%", label: { show: !narrow, position: "top" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
