/* The quarterly feedback note's chart (templates/supervision/quarterly_detail.html): activities and
 * attendance person-times per month of the quarter, from the frozen figures in a json_script
 * block, drawn with the vendored ECharts. A file, not inline: the CSP allows this site's scripts. */
(function () {
  "use strict";

  function draw() {
    var node = document.getElementById("quarterly-data");
    var el = document.getElementById("quarterly-chart");
    if (!node || !el || typeof echarts === "undefined") return;
    var data = JSON.parse(node.textContent);
    if (!data.months || !data.months.length) return;
    el.style.height = "260px";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      color: ["#b3131b", "#e6a23c"],
      tooltip: { trigger: "axis" },
      legend: { data: ["活动", "参加人次"], bottom: 0 },
      grid: { left: 48, right: 48, top: 16, bottom: 48 },
      xAxis: { type: "category", data: data.months },
      yAxis: [{ type: "value", name: "次" }, { type: "value", name: "人次" }],
      series: [
        { name: "活动", type: "bar", data: data.activities },
        { name: "参加人次", type: "line", yAxisIndex: 1, data: data.attendance }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
