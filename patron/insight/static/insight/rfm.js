// The RFM page's charts (ECharts) from the json_script "rfm-spec" (no inline script: CSP).
// The heat map: F on x, R on y, colour = mean 12-month spend, label = members; a click opens
// the segment builder with that R and F. The bars: members per lifecycle stage.
(function () {
  "use strict";

  function cssColour(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; });
  }

  function heatmap(box, spec) {
    var count = new Intl.NumberFormat(document.documentElement.lang || undefined);
    var scores = ["1", "2", "3", "4", "5"];
    var top = 0;
    // A square without members is left blank ("-" is ECharts' empty value), not coloured as ¥0.
    var data = spec.cells.map(function (cell) {
      top = Math.max(top, cell.spend);
      var spend = cell.count ? cell.spend : "-";
      return { value: [cell.f - 1, cell.r - 1, spend], count: cell.count, link: cell.link, r: cell.r, f: cell.f };
    });
    var chart = echarts.init(box.querySelector(".chart-canvas"));
    chart.setOption({
      animation: false,
      grid: { left: 56, right: 120, top: 16, bottom: 48 },
      tooltip: {
        formatter: function (p) {
          var spend = p.data.count ? p.data.value[2].toFixed(2) : "0.00";
          return fill(spec.tooltip, { r: p.data.r, f: p.data.f, count: count.format(p.data.count), spend: spend });
        },
      },
      xAxis: { type: "category", data: scores, name: spec.x_name, nameLocation: "middle", nameGap: 28, splitArea: { show: true } },
      yAxis: { type: "category", data: scores, name: spec.y_name, nameLocation: "middle", nameGap: 36, splitArea: { show: true } },
      visualMap: {
        min: 0, max: top || 1, calculable: true, orient: "vertical", right: 0, top: "middle",
        itemHeight: 200, precision: 0, text: [spec.colour_name, ""],
        inRange: { color: ["#eef3ff", cssColour("--primary", "#3056d3")] },
      },
      series: [{
        type: "heatmap", data: data,
        label: { show: true, formatter: function (p) { return count.format(p.data.count); } },
        emphasis: { itemStyle: { borderColor: "#222", borderWidth: 1 } },
      }],
    });
    chart.on("click", function (p) { if (p.data && p.data.link) { window.location.href = p.data.link; } });
    window.addEventListener("resize", function () { chart.resize(); });
    box.dataset.chartDrawn = "1";
  }

  function stages(box, spec) {
    var chart = echarts.init(box.querySelector(".chart-canvas"));
    var colours = [cssColour("--success", "#2f8a3b"), "#73b55e", "#e8a317", "#d4380d"];
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: spec.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        type: "bar", label: { show: true, position: "top" },
        data: spec.counts.map(function (value, index) {
          return { value: value, link: spec.links[index], itemStyle: { color: colours[index] } };
        }),
      }],
    });
    chart.on("click", function (p) { if (p.data && p.data.link) { window.location.href = p.data.link; } });
    window.addEventListener("resize", function () { chart.resize(); });
    box.dataset.chartDrawn = "1";
  }

  function drawAll() {
    var source = document.getElementById("rfm-spec");
    if (!source || typeof echarts === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var map = document.querySelector("[data-rfm-chart=heatmap]");
    var bars = document.querySelector("[data-rfm-chart=stages]");
    if (map) { heatmap(map, spec.heatmap); }
    if (bars) { stages(bars, spec.stages); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
