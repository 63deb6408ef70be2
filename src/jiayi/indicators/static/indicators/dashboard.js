/* Indicator dashboard charts (ECharts, served locally from npm: no CDN).
 *
 * Data: <script type="application/json" id="ind-chart-data">{targets, trend, ranking, children, labels}</script>;
 * each <div data-ind-chart="targets|trend|ranking|children"> gets one chart:
 * - targets: current value (bars) against the target (a line of markers), one category per target;
 * - trend: the selected indicator month by month;
 * - ranking / children: the selected indicator across centres (or the units one level down).
 */
(function () {
  "use strict";

  function base(el) {
    return {
      animation: false,
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
    };
  }

  function short(label) {
    return label.length > 8 ? label.slice(0, 8) + "…" : label;
  }

  function render(el, data) {
    if (typeof echarts === "undefined") {
      return;
    }
    var kind = el.dataset.indChart;
    var option = base(el);
    var labels = data.labels || {};
    if (kind === "targets") {
      var t = data.targets || [];
      option.legend = { top: 0, data: [labels.value, labels.target] };
      option.xAxis = { type: "category", data: t.map(function (x) { return short(x.label); }),
                       axisLabel: { interval: 0, rotate: 30 } };
      option.yAxis = { type: "value", max: 100, axisLabel: { formatter: "{value}%" } };
      option.series = [
        { name: labels.value, type: "bar", data: t.map(function (x) { return x.value; }), itemStyle: { color: "#0f6e6e" } },
        { name: labels.target, type: "line", symbol: "diamond", symbolSize: 10, lineStyle: { type: "dashed" },
          data: t.map(function (x) { return x.target; }), itemStyle: { color: "#b3261e" } },
      ];
    } else if (kind === "trend") {
      var tr = data.trend || { periods: [], values: [] };
      option.title = { text: tr.name, textStyle: { fontSize: 13 } };
      option.xAxis = { type: "category", data: tr.periods };
      option.yAxis = { type: "value" };
      option.series = [{ name: tr.name, type: "line", data: tr.values, itemStyle: { color: "#1f6fb2" } }];
    } else {
      var r = data[kind] || { units: [], values: [] };
      option.title = { text: r.name, textStyle: { fontSize: 13 } };
      option.grid.left = 8;
      option.xAxis = { type: "value" };
      option.yAxis = { type: "category", inverse: true, data: r.units.map(short) };
      option.series = [{ name: r.name, type: "bar", data: r.values, itemStyle: { color: "#0f6e6e" } }];
    }
    var chart = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option, true);
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function renderAll() {
    var source = document.getElementById("ind-chart-data");
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent || "{}");
    document.querySelectorAll("[data-ind-chart]").forEach(function (el) { render(el, data); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll);
  } else {
    renderAll();
  }
})();
