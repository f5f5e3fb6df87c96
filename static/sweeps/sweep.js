// The sweep page's charts (vendored Chart.js): a parallel-coordinates chart of every trial's
// hyperparameters and primary metric, and every trial's metric curve overlaid. Data comes from the
// sweep's data URL; while the sweep runs the page asks every few seconds for what is new since its
// cursor and updates both charts in place (they are never re-created).
(function () {
  "use strict";
  var POLL_MS = 3000;
  var PALETTE = ["#2456d3", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#e67700", "#5c940d", "#364fc7", "#a61e4d"];

  function short(v) {
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
    return String(v);
  }

  // Each axis maps its values to 0..1: numbers by their range, choices by their order of appearance.
  function axes(data) {
    var names = data.params.concat([data.metric]);
    return names.map(function (name, i) {
      var isMetric = i === names.length - 1;
      var values = data.trials.map(function (t) { return isMetric ? t.value : t.params[name]; })
        .filter(function (v) { return v !== null && v !== undefined; });
      var numeric = values.every(function (v) { return typeof v === "number"; });
      if (numeric) {
        var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
        return { name: name, metric: isMetric, label: values.length ? [name, short(lo) + " – " + short(hi)] : [name],
          scale: function (v) { return hi > lo ? (v - lo) / (hi - lo) : 0.5; } };
      }
      var seen = [];
      values.forEach(function (v) { if (seen.indexOf(String(v)) < 0) seen.push(String(v)); });
      return { name: name, metric: isMetric, label: [name, seen.join(" · ").slice(0, 40)],
        scale: function (v) { return seen.length > 1 ? seen.indexOf(String(v)) / (seen.length - 1) : 0.5; } };
    });
  }

  function parallelData(data) {
    var list = axes(data);
    var valued = data.trials.filter(function (t) { return t.value !== null; });
    var values = valued.map(function (t) { return t.value; });
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    var datasets = data.trials.map(function (t) {
      var good = t.value === null ? null : (hi > lo ? (t.value - lo) / (hi - lo) : 1);
      if (good !== null && data.goal === "minimize") good = 1 - good;
      // Better trials are darker blue; trials without a value are grey.
      var color = good === null ? "rgba(140,140,150,0.5)" : "rgba(36,86,211," + (0.25 + 0.75 * good).toFixed(2) + ")";
      return {
        label: "trial " + t.number,
        url: t.url,
        raw: list.map(function (a) { return a.metric ? t.value : t.params[a.name]; }),
        data: list.map(function (a) {
          var v = a.metric ? t.value : t.params[a.name];
          return v === null || v === undefined ? null : a.scale(v);
        }),
        borderColor: t.best ? "#d9480f" : color,
        borderWidth: t.best ? 4 : 1.5,
        pointRadius: 2,
        tension: 0,
        spanGaps: false,
      };
    });
    return { labels: list.map(function (a) { return a.label; }), datasets: datasets };
  }

  function makeParallel(canvas) {
    return new window.Chart(canvas, {
      type: "line",
      data: { labels: [], datasets: [] },
      options: {
        animation: false, maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) {
            var raw = ctx.dataset.raw[ctx.dataIndex];
            return ctx.dataset.label + ": " + (raw === null || raw === undefined ? "—" : short(raw));
          } } },
        },
        scales: { y: { min: 0, max: 1, ticks: { display: false }, grid: { color: "#eef0f4" } }, x: { grid: { color: "#c8ccd4" } } },
        onClick: function (event, elements, chart) {
          var hit = chart.getElementsAtEventForMode(event, "nearest", { intersect: true }, false)[0];
          if (hit) window.location.href = chart.data.datasets[hit.datasetIndex].url;
        },
      },
    });
  }

  function makeCurves(canvas, metric) {
    return new window.Chart(canvas, {
      type: "line",
      data: { datasets: [] },
      options: {
        animation: false, maintainAspectRatio: false, parsing: false, normalized: true,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 10 } } },
        scales: { x: { type: "linear", title: { display: true, text: "step" } }, y: { title: { display: true, text: metric } } },
      },
    });
  }

  function start(root) {
    var url = root.getAttribute("data-url");
    var parallel = null, curves = null, cursor = 0, byTrial = {};

    function curveFor(trial) {
      if (!byTrial[trial.number]) {
        byTrial[trial.number] = {
          label: "trial " + trial.number, data: [], pointRadius: 0, borderWidth: 1.5,
          borderColor: PALETTE[trial.number % PALETTE.length],
        };
        curves.data.datasets.push(byTrial[trial.number]);
      }
      var line = byTrial[trial.number];
      line.borderWidth = trial.best ? 3 : 1.5;
      return line;
    }

    // A chart with nothing to draw says so instead of showing empty axes; Chart.js measures its
    // box when drawing, so the box is shown before the update.
    function show(canvasId, hasData, data) {
      var note = root.querySelector('[data-chart-empty="' + canvasId + '"]');
      var box = document.getElementById(canvasId).parentNode;
      note.hidden = hasData;
      if (!hasData && data.final) note.textContent = "No trial logged " + data.metric + ".";
      box.hidden = !hasData;
    }

    function apply(data) {
      show("sweep-parallel", data.trials.some(function (t) { return t.value !== null; }), data);
      if (!parallel) {
        parallel = makeParallel(document.getElementById("sweep-parallel"));
        curves = makeCurves(document.getElementById("sweep-curves"), data.metric);
      }
      var fresh = parallelData(data);
      parallel.data.labels = fresh.labels;
      parallel.data.datasets = fresh.datasets;
      parallel.update();
      data.trials.forEach(function (t) { curveFor(t); });
      Object.keys(data.points).forEach(function (number) {
        var line = byTrial[number];
        if (!line) return;
        data.points[number].forEach(function (p) { line.data.push({ x: p[0], y: p[1] }); });
        line.data.sort(function (a, b) { return a.x - b.x; });
      });
      show("sweep-curves", curves.data.datasets.some(function (d) { return d.data.length > 0; }), data);
      curves.update();
      cursor = data.cursor;
      root.setAttribute("data-loaded", String(data.trials.length));
      return data.final;
    }

    function poll() {
      fetch(url + "?after=" + cursor, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { if (!apply(data)) window.setTimeout(poll, POLL_MS); })
        .catch(function () { window.setTimeout(poll, POLL_MS * 3); });
    }
    poll();
  }

  function init() {
    if (!window.Chart) return;
    document.querySelectorAll("[data-sweep-charts]").forEach(start);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
