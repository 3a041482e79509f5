// The 报表 pages' charts, from JSON specs (patron/insight/report_views.py `charts`,
// `diagnosis_chart`). No inline script (the Content-Security-Policy forbids it): every
// [data-report-chart] element names the json_script element holding its spec.
//
// spec = {type: "line" | "bar", title, unit: "yuan" | "count", labels: [...],
//         series: [{name, values: [...]}, ...]}
//      | {type: "pie", title, unit, slices: [{name, value}, ...]}
//      | {type: "scatter", title, x_name, y_name, x_median, y_median, median_name,
//         points: [{name, value: [x, y]}, ...]}   (y in yuan)
(function () {
  "use strict";

  function cssColour(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function language() { return document.documentElement.lang || undefined; }

  function formatter(unit) {
    if (unit === "yuan") {
      var money = new Intl.NumberFormat(language(), { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      return function (value) { return "¥" + money.format(value); };
    }
    var count = new Intl.NumberFormat(language());
    return function (value) { return count.format(value); };
  }

  function axisFormatter(unit) {
    var compact = new Intl.NumberFormat(language(), { notation: "compact", maximumFractionDigits: 1 });
    return function (value) { return (unit === "yuan" ? "¥" : "") + compact.format(value); };
  }

  function colours() {
    return [cssColour("--primary", "#3056d3"), cssColour("--success", "#2f8a3b"), "#e8a317", "#d4380d", "#8a91a0"];
  }

  function seriesOption(spec) {
    var format = formatter(spec.unit);
    return {
      color: colours(),
      animation: false,
      grid: { left: 8, right: 28, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, left: 0 },
      tooltip: { trigger: "axis", valueFormatter: format },
      xAxis: { type: "category", boundaryGap: spec.type === "bar", data: spec.labels },
      yAxis: { type: "value", minInterval: spec.unit === "count" ? 1 : 0, axisLabel: { formatter: axisFormatter(spec.unit) } },
      series: spec.series.map(function (s) {
        return { name: s.name, type: spec.type, showSymbol: spec.labels.length < 40, data: s.values };
      }),
    };
  }

  function pieOption(spec) {
    return {
      color: colours(),
      animation: false,
      legend: { bottom: 0, left: "center" },
      tooltip: { trigger: "item", valueFormatter: formatter(spec.unit) },
      series: [{ type: "pie", radius: ["40%", "68%"], center: ["50%", "45%"], label: { formatter: "{d}%" }, data: spec.slices }],
    };
  }

  // Room around the points and the median lines, so no point or label sits on the frame.
  function padded(side) {
    return function (range) {
      var pad = (range.max - range.min) * 0.15 || Math.abs(range.max) * 0.2 || 1;
      return side < 0 ? Math.max(0, range.min - pad) : range.max + pad;
    };
  }

  function scatterOption(spec) {
    var money = formatter("yuan");
    var number = new Intl.NumberFormat(language(), { maximumFractionDigits: 2 });
    var median = { lineStyle: { type: "dashed", color: "#8a91a0" }, label: { formatter: spec.median_name, position: "insideEndTop", color: "#5b6272" } };
    return {
      color: colours(),
      animation: false,
      grid: { left: 48, right: 24, top: 24, bottom: 40, containLabel: true },
      tooltip: {
        trigger: "item",
        formatter: function (item) {
          return item.name + "<br>" + spec.x_name + ": " + number.format(item.value[0]) + "<br>" + spec.y_name + ": " + money(item.value[1]);
        },
      },
      xAxis: { type: "value", name: spec.x_name, nameLocation: "middle", nameGap: 28, min: padded(-1), max: padded(1), axisLabel: { showMinLabel: false, showMaxLabel: false, formatter: function (v) { return number.format(v); } } },
      yAxis: { type: "value", name: spec.y_name, nameLocation: "middle", nameGap: 56, min: padded(-1), max: padded(1), axisLabel: { showMinLabel: false, showMaxLabel: false, formatter: axisFormatter("yuan") } },
      series: [{
        type: "scatter",
        symbolSize: 16,
        data: spec.points,
        label: { show: true, position: "right", formatter: "{b}" },
        markLine: { silent: true, symbol: ["none", "none"], data: [Object.assign({ xAxis: spec.x_median }, median), Object.assign({ yAxis: spec.y_median }, median)] },
      }],
    };
  }

  function draw(box) {
    var source = document.getElementById(box.dataset.reportChart);
    var canvas = box.querySelector(".chart-canvas");
    if (!source || !canvas || typeof echarts === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var option = spec.type === "pie" ? pieOption(spec) : spec.type === "scatter" ? scatterOption(spec) : seriesOption(spec);
    var chart = echarts.init(canvas);
    chart.setOption(option);
    box.dataset.chartDrawn = "1";
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll() { document.querySelectorAll("[data-report-chart]").forEach(draw); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
