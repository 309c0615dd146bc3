/* The dashboard's charts (templates/supervision/dashboard.html), drawn with the vendored ECharts
 * from the figures the page carries in a json_script block: the trend by month, the activity type
 * mix and the children compared. A file, not inline: the Content-Security-Policy allows scripts
 * from this site only. */
(function () {
  "use strict";

  function chart(id, height, option) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") return null;
    el.style.height = height + "px";
    var c = echarts.init(el, null, { renderer: "canvas" });
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }

  function draw() {
    var node = document.getElementById("dashboard-data");
    if (!node) return;
    var data = JSON.parse(node.textContent);
    var red = "#b3131b";
    chart("chart-trend", 280, {
      color: [red, "#e6a23c", "#2f6fb3"],
      tooltip: { trigger: "axis" },
      legend: { data: ["活动", "参加人次", "党课"], bottom: 0 },
      grid: { left: 48, right: 48, top: 16, bottom: 48 },
      xAxis: { type: "category", data: data.months },
      yAxis: [{ type: "value", name: "次" }, { type: "value", name: "人次" }],
      series: [
        { name: "活动", type: "bar", data: data.trend.activities },
        { name: "参加人次", type: "line", yAxisIndex: 1, data: data.trend.attendance },
        { name: "党课", type: "line", data: data.trend.lectures }
      ]
    });
    // A phone has no room for labels around the ring: the types go to a legend below it.
    var narrow = window.innerWidth < 576;
    var mix = {
      tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
      series: [{
        type: "pie",
        radius: narrow ? ["30%", "55%"] : ["35%", "65%"],
        center: ["50%", narrow ? "40%" : "50%"],
        data: data.mix,
        label: narrow ? { show: false } : { formatter: "{b}\n{c}", width: 120, overflow: "break" },
        labelLayout: { hideOverlap: true }
      }]
    };
    if (narrow) mix.legend = { type: "scroll", bottom: 0 };
    chart("chart-mix", narrow ? 320 : 280, mix);
    chart("chart-children", 300, {
      color: [red, "#2f6fb3"],
      tooltip: { trigger: "axis" },
      legend: { data: ["活动", "学时达标率%"], bottom: 0 },
      grid: { left: 16, right: 16, top: 32, bottom: 36, containLabel: true },
      xAxis: { type: "category", data: data.children.names, axisLabel: {
        interval: 0,
        // A phone has room for few names side by side: turn them and cut long ones short.
        rotate: data.children.names.length > 6 || (data.children.names.length > 2 && window.innerWidth < 768) ? 35 : 0,
        width: window.innerWidth < 768 ? 96 : 180,
        overflow: "truncate"
      } },
      yAxis: [{ type: "value", name: "次" }, { type: "value", name: "%", max: 100 }],
      series: [
        { name: "活动", type: "bar", data: data.children.activities },
        { name: "学时达标率%", type: "line", yAxisIndex: 1, data: data.children.rate }
      ]
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
