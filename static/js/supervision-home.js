/* The trend chart of the key-figures panel an org_admin's home page loads after it has drawn
 * (templates/supervision/_home_figures.html, swapped in by HTMX), drawn with the vendored ECharts
 * from the panel's json_script block. A file, not inline: the Content-Security-Policy. */
(function () {
  "use strict";

  function draw() {
    var node = document.getElementById("home-figures-data");
    var el = document.getElementById("home-trend");
    if (!node || !el || el.dataset.drawn || typeof echarts === "undefined") return;
    el.dataset.drawn = "1";
    var data = JSON.parse(node.textContent);
    el.style.height = "220px";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      color: ["#b3131b", "#2f6fb3"],
      tooltip: { trigger: "axis" },
      legend: { data: ["活动", "参加人次"], bottom: 0 },
      grid: { left: 40, right: 48, top: 12, bottom: 40 },
      xAxis: { type: "category", data: data.months },
      yAxis: [{ type: "value", name: "次" }, { type: "value", name: "人次" }],
      series: [
        { name: "活动", type: "bar", data: data.trend.activities },
        { name: "参加人次", type: "line", yAxisIndex: 1, data: data.trend.attendance }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
