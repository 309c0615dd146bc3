/* The 大屏 (templates/supervision/screen.html): large figures and charts of one organisation,
 * drawn from the json_script block and refreshed every 60 seconds from the dashboard API
 * (GET /api/v1/organizations/{id}/dashboard/, the session's own rights). No personal data: the
 * API returns figures of organisations only. */
(function () {
  "use strict";

  var REFRESH_MS = 60000;
  var CARDS = [
    ["members", "在册党员", ""],
    ["hours_completion_rate", "学时达标率", "%"],
    ["activities", "学习活动", "次"],
    ["attendance_person_times", "参加人次", ""],
    ["theme_day_months", "主题党日月数", ""],
    ["lectures", "党课", "次"],
    ["cadence_compliance_rate", "支部组织生活达标率", "%"],
    ["online_hours", "网络学习学时", ""]
  ];
  var charts = {};
  var data = JSON.parse(document.getElementById("screen-data").textContent);
  var script = document.getElementById("screen-script");
  var api = script ? script.getAttribute("data-api") : "";

  function fmt(key, value) {
    if (key.indexOf("rate") >= 0) return (value * 100).toFixed(1);
    return Number(value).toLocaleString("zh-CN");
  }

  function cards(ind) {
    var box = document.getElementById("screen-cards");
    box.textContent = "";
    CARDS.forEach(function (c) {
      var col = document.createElement("div");
      col.className = "col-6 col-md-3";
      var card = document.createElement("div");
      card.className = "border border-danger rounded py-3";
      card.setAttribute("data-testid", "screen-card-" + c[0]);
      var v = document.createElement("div");
      v.className = "display-3 fw-bold text-warning";
      v.textContent = fmt(c[0], ind[c[0]] || 0) + c[2];
      var l = document.createElement("div");
      l.className = "fs-3";
      l.textContent = c[1];
      card.appendChild(v);
      card.appendChild(l);
      col.appendChild(card);
      box.appendChild(col);
    });
  }

  function chart(id, height, option) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") return;
    if (!charts[id]) {
      el.style.height = height + "px";
      charts[id] = echarts.init(el, "dark", { renderer: "canvas" });
      window.addEventListener("resize", function () { charts[id].resize(); });
    }
    charts[id].setOption(option, true);
  }

  function draw(d) {
    cards(d.indicators);
    var big = { fontSize: 18 };
    var s = d.series || data.series;
    chart("screen-trend", 460, {
      backgroundColor: "transparent",
      textStyle: big,
      tooltip: { trigger: "axis" },
      legend: { data: ["活动", "参加人次"], textStyle: big },
      xAxis: { type: "category", data: s.months, axisLabel: big },
      yAxis: [{ type: "value", axisLabel: big }, { type: "value", axisLabel: big }],
      series: [
        { name: "活动", type: "bar", data: s.trend.activities, itemStyle: { color: "#d7263d" } },
        { name: "参加人次", type: "line", yAxisIndex: 1, data: s.trend.attendance, itemStyle: { color: "#f5c518" } }
      ]
    });
    var types = d.types || data.types;
    var mix = Object.keys(d.indicators.activities_by_type || {}).map(function (code) {
      return { name: types[code] || code, value: d.indicators.activities_by_type[code] };
    });
    chart("screen-mix", 460, {
      backgroundColor: "transparent",
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "70%"], data: mix, label: { fontSize: 18, color: "#fff" } }]
    });
    var names = d.children.map(function (c) { return c.name; });
    chart("screen-children", 460, {
      backgroundColor: "transparent",
      tooltip: { trigger: "axis" },
      legend: { data: ["学习活动", "学时达标率%"], textStyle: big, bottom: 0 },
      grid: { left: 16, right: 16, top: 48, bottom: 44, containLabel: true },
      // Three charts share the screen's width: turn the names and cut long ones short.
      xAxis: { type: "category", data: names, axisLabel: { fontSize: 16, interval: 0, rotate: names.length > 3 ? 35 : 0, width: 150, overflow: "truncate" } },
      yAxis: [{ type: "value", axisLabel: big }, { type: "value", max: 100, axisLabel: big }],
      series: [
        { name: "学习活动", type: "bar", data: d.children.map(function (c) { return c.indicators.activities; }), itemStyle: { color: "#d7263d" } },
        { name: "学时达标率%", type: "line", yAxisIndex: 1, data: d.children.map(function (c) { return Math.round(c.indicators.hours_completion_rate * 1000) / 10; }), itemStyle: { color: "#f5c518" } }
      ]
    });
    document.getElementById("screen-updated").textContent = new Date().toLocaleTimeString("zh-CN");
  }

  function refresh() {
    if (!api) return;
    fetch(api + "?year=" + encodeURIComponent(data.year), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) { d.series = data.series; d.types = data.types; draw(d); } })
      .catch(function () { /* keep the last figures on a network error */ });
  }

  draw(data);
  window.setInterval(refresh, REFRESH_MS);
})();
