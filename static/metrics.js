// Draws metric charts from json_script data: one chart per metric on a job page, one chart per
// metric with a line per run on the experiment comparison page. Uses the vendored Chart.js.
(function () {
  "use strict";
  var PALETTE = ["#2456d3", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#e67700", "#5c940d", "#364fc7", "#a61e4d"];
  var charts = new Map();

  function draw(canvas, datasets) {
    var old = charts.get(canvas);
    if (old) old.destroy();
    charts.set(canvas, new window.Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
        interaction: { mode: "nearest", intersect: false },
        scales: { x: { type: "linear", title: { display: true, text: "step" } } },
        plugins: { legend: { display: datasets.length > 1 } },
        elements: { point: { radius: 0, hitRadius: 6 }, line: { borderWidth: 2 } },
      },
    }));
  }

  function points(series) {
    return series.map(function (p) { return { x: p.step, y: p.value }; });
  }

  function renderJob(root) {
    var data = root.querySelector("#metric-series");
    if (!data) return;
    var series = JSON.parse(data.textContent);
    root.querySelectorAll("canvas[data-metric-key]").forEach(function (canvas) {
      var key = canvas.dataset.metricKey;
      draw(canvas, [{ label: key, data: points(series[key] || []), borderColor: PALETTE[0], backgroundColor: PALETTE[0] }]);
    });
  }

  function renderCompare(root) {
    var data = root.querySelector("#compare-series");
    if (!data) return;
    var payload = JSON.parse(data.textContent);
    root.querySelectorAll("canvas[data-compare-key]").forEach(function (canvas) {
      var key = canvas.dataset.compareKey;
      var datasets = payload.runs.map(function (run, i) {
        var colour = PALETTE[i % PALETTE.length];
        return { label: payload.labels[run], data: points((payload.series[run] || {})[key] || []), borderColor: colour, backgroundColor: colour };
      });
      draw(canvas, datasets);
    });
  }

  function render(root) {
    if (!window.Chart) return;
    renderJob(root);
    renderCompare(root);
  }
  document.addEventListener("DOMContentLoaded", function () { render(document); });
  document.addEventListener("htmx:afterSwap", function (e) { render(e.target); });
})();
