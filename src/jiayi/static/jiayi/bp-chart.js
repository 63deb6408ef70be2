/* Blood-pressure trend on the resident page (ECharts, served locally from npm: no CDN).
 *
 * Markup: <script type="application/json" id="bp-data">[{date, sbp, dbp}, ...]</script> and
 * <div class="chart" data-bp-chart="bp-data" data-sbp-label=".." data-dbp-label=".." data-unit="mmHg">.
 * Re-renders after htmx swaps the measurements section (a new measurement was saved).
 */
(function () {
  "use strict";

  function render(el) {
    if (typeof echarts === "undefined") {
      return;
    }
    var source = document.getElementById(el.dataset.bpChart);
    if (!source) {
      return;
    }
    var points = JSON.parse(source.textContent || "[]");
    var existing = echarts.getInstanceByDom(el);
    if (existing) {
      existing.dispose();
    }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var unit = el.dataset.unit || "mmHg";
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      grid: { left: 8, right: 28, top: 40, bottom: 8, containLabel: true },
      legend: { top: 0, data: [el.dataset.sbpLabel, el.dataset.dbpLabel] },
      tooltip: {
        trigger: "axis",
        valueFormatter: function (v) { return v == null ? "—" : v + " " + unit; }
      },
      // A time axis keeps the real spacing between visits (two weeks vs three months).
      xAxis: {
        type: "time",
        axisLabel: { hideOverlap: true, formatter: "{yyyy}-{MM}-{dd}" },
        splitLine: { show: false }
      },
      yAxis: {
        type: "value",
        name: unit,
        nameTextStyle: { align: "right" },
        min: function (v) { return Math.max(0, Math.floor((v.min - 10) / 20) * 20); },
        max: function (v) { return Math.ceil((v.max + 10) / 20) * 20; },
        interval: 20
      },
      series: [
        {
          name: el.dataset.sbpLabel, type: "line", symbolSize: 6, connectNulls: true,
          itemStyle: { color: "#c0392b" }, data: points.map(function (p) { return [p.date, p.sbp]; })
        },
        {
          name: el.dataset.dbpLabel, type: "line", symbolSize: 6, connectNulls: true,
          itemStyle: { color: "#1f6fb2" }, data: points.map(function (p) { return [p.date, p.dbp]; })
        }
      ]
    });
    el.dataset.rendered = "1";
  }

  function renderAll(root) {
    var nodes = (root || document).querySelectorAll("[data-bp-chart]");
    Array.prototype.forEach.call(nodes, render);
  }

  document.addEventListener("DOMContentLoaded", function () { renderAll(document); });
  document.body.addEventListener("htmx:afterSettle", function () { renderAll(document); });
  window.addEventListener("resize", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-bp-chart]"), function (el) {
      var chart = typeof echarts !== "undefined" && echarts.getInstanceByDom(el);
      if (chart) { chart.resize(); }
    });
  });
})();
