// Charts from a JSON spec (the `{% chart %}` tag of patron/core/templatetags/charts.py).
// No inline script (the Content-Security-Policy forbids it): every [data-chart] element names
// the json_script element that holds its spec; this file draws it with ECharts.
//
// spec = {
//   type: "line" | "bar",
//   title: "…", unit: "yuan" | "count",
//   labels: ["12月6日", …],                      // the x axis
//   series: [{key: "sales", name: "销售额"}, …],  // which values to draw, in order
//   views: [{key: "S1", label: "西湖店", values: {sales: [1.5, …], …}}, …],
//   view_label: "门店"                            // the picker's label when there are views
// }
// A view may carry its own `unit` (one chart of yuan and of points: the what-if page's
// figures picker); without one the spec's unit holds.
(function () {
  "use strict";

  function cssColour(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function formatter(unit) {
    var language = document.documentElement.lang || undefined;
    if (unit === "yuan") {
      var money = new Intl.NumberFormat(language, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      return function (value) { return "¥" + money.format(value); };
    }
    var count = new Intl.NumberFormat(language);
    return function (value) { return count.format(value); };
  }

  function axisFormatter(unit) {
    var language = document.documentElement.lang || undefined;
    var compact = new Intl.NumberFormat(language, { notation: "compact", maximumFractionDigits: 1 });
    return function (value) { return (unit === "yuan" ? "¥" : "") + compact.format(value); };
  }

  function option(spec, view) {
    var unit = view.unit || spec.unit;
    var format = formatter(unit);
    var colours = [cssColour("--primary", "#3056d3"), cssColour("--success", "#2f8a3b"), "#e8a317", "#d4380d"];
    return {
      color: colours,
      animation: false,
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, left: 0, data: spec.series.map(function (s) { return s.name; }) },
      tooltip: {
        trigger: "axis",
        valueFormatter: format,
      },
      xAxis: { type: "category", boundaryGap: spec.type === "bar", data: spec.labels },
      yAxis: { type: "value", axisLabel: { formatter: axisFormatter(unit) } },
      series: spec.series.map(function (s) {
        return {
          name: s.name,
          type: spec.type === "bar" ? "bar" : "line",
          showSymbol: false,
          smooth: false,
          data: view.values[s.key] || [],
        };
      }),
    };
  }

  function draw(box) {
    var source = document.getElementById(box.dataset.chart);
    var canvas = box.querySelector(".chart-canvas");
    if (!source || !canvas || typeof echarts === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    if (!spec.views || !spec.views.length) { return; }
    var chart = echarts.init(canvas);
    chart.setOption(option(spec, spec.views[0]));
    box.dataset.chartDrawn = "1";
    var picker = box.querySelector("[data-chart-view]");
    if (picker) {
      picker.addEventListener("change", function () {
        var view = spec.views[Number(picker.value)] || spec.views[0];
        chart.setOption(option(spec, view), { notMerge: true });
        box.dataset.chartView = view.key;
      });
    }
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll() {
    document.querySelectorAll("[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
