// Metric charts (vendored Chart.js). A job's Metrics tab loads its series once (downsampled on the
// server) and then asks only for points logged since its cursor, updating each chart in place;
// charts are never re-created. The comparison page overlays runs, and draws metrics where every
// run logged a single value as bars. One options bar per page: x axis (step, relative or wall
// time), smoothing, log scale; drag across a chart to zoom, double-click to reset.
(function () {
  "use strict";
  var PALETTE = ["#2456d3", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#e67700", "#5c940d", "#364fc7", "#a61e4d"];
  var POLL_MS = 3000;
  var RELOAD_ABOVE = 4000;  // points held per line before the downsampled series is fetched again
  var STORE = "studio.chartOptions";
  var X_TITLES = { step: "step", relative: "time since start", time: "wall time" };

  // --- options ---------------------------------------------------------------------------------
  function readOptions(bar) {
    if (!bar) return { x: "step", smooth: 0, log: false };
    return {
      x: bar.querySelector("[data-chart-x]").value,
      smooth: parseFloat(bar.querySelector("[data-chart-smooth]").value) || 0,
      log: bar.querySelector("[data-chart-log]").checked,
    };
  }
  function restoreOptions(bar) {
    var saved = {};
    try { saved = JSON.parse(localStorage.getItem(STORE) || "{}"); } catch (e) { saved = {}; }
    if (saved.x && X_TITLES[saved.x]) bar.querySelector("[data-chart-x]").value = saved.x;
    if (saved.smooth >= 0 && saved.smooth < 1) bar.querySelector("[data-chart-smooth]").value = saved.smooth;
    bar.querySelector("[data-chart-log]").checked = !!saved.log;
    bar.querySelector("[data-chart-smooth-value]").textContent = bar.querySelector("[data-chart-smooth]").value;
  }
  function saveOptions(o) {
    try { localStorage.setItem(STORE, JSON.stringify(o)); } catch (e) { /* private mode: options last for the page */ }
  }

  // --- formatting --------------------------------------------------------------------------------
  function duration(seconds) {
    var s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    if (h) return h + "h" + (m ? " " + m + "m" : "");
    if (m) return m + "m" + (r ? " " + r + "s" : "");
    return r + "s";
  }
  function formatX(mode, v) {
    if (mode === "time") return new Date(v).toLocaleTimeString();
    if (mode === "relative") return duration(v);
    return String(v);
  }

  // points arrive as [step, value, timestamp ms]
  function toXY(points, mode) {
    var t0 = points.length ? points[0][2] : 0;
    if (mode !== "step") for (var i = 1; i < points.length; i++) if (points[i][2] < t0) t0 = points[i][2];
    var out = points.map(function (p) {
      return { x: mode === "step" ? p[0] : mode === "time" ? p[2] : (p[2] - t0) / 1000, y: p[1] };
    });
    if (mode !== "step") out.sort(function (a, b) { return a.x - b.x; });
    return out;
  }
  // TensorBoard's smoothing: an exponential moving average, debiased at the start.
  function smoothed(xy, weight) {
    var last = 0, n = 0;
    return xy.map(function (p) {
      if (!isFinite(p.y)) return p;
      n += 1;
      last = last * weight + (1 - weight) * p.y;
      return { x: p.x, y: last / (1 - Math.pow(weight, n)) };
    });
  }

  function lineDatasets(runs, o) {
    var sets = [];
    runs.forEach(function (run, i) {
      var colour = PALETTE[i % PALETTE.length], xy = toXY(run.points, o.x), single = xy.length === 1;
      var line = { label: run.label, data: xy, borderColor: colour, backgroundColor: colour,
                   pointRadius: single ? 4 : 0, pointHoverRadius: 5 };
      if (o.smooth > 0 && !single) {
        sets.push({ label: run.label + " (raw)", data: xy, borderColor: colour + "40", backgroundColor: colour + "40",
                    pointRadius: 0, borderWidth: 1, studioRaw: true });
        line.data = smoothed(xy, o.smooth);
      }
      sets.push(line);
    });
    return sets;
  }

  function lineOptions(o, many) {
    return {
      animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
      interaction: { mode: "nearest", intersect: false },
      scales: {
        x: { type: "linear", title: { display: true, text: X_TITLES[o.x] },
             ticks: { maxTicksLimit: 6, callback: function (v) { return formatX(o.x, v); } } },
        y: { type: o.log ? "logarithmic" : "linear" },
      },
      plugins: {
        legend: { display: many, labels: { filter: function (item, data) { return !data.datasets[item.datasetIndex].studioRaw; } } },
        tooltip: { filter: function (item) { return !item.dataset.studioRaw; },
                   callbacks: { title: function (items) { return items.length ? X_TITLES[o.x] + " " + formatX(o.x, items[0].parsed.x) : ""; } } },
      },
      elements: { line: { borderWidth: 2 } },
    };
  }

  // --- one chart card: created once, then updated in place ---------------------------------------
  function Card(grid, key) {
    var fig = document.createElement("figure");
    fig.className = "card chart-card";
    fig.dataset.metric = key;
    var cap = document.createElement("figcaption");
    var name = document.createElement("span");
    name.textContent = key;
    this.note = document.createElement("span");
    this.note.className = "muted small chart-note";
    this.reset = document.createElement("button");
    this.reset.type = "button";
    this.reset.className = "btn small";
    this.reset.textContent = "Reset zoom";
    this.reset.hidden = true;
    cap.append(name, this.note, this.reset);
    var box = document.createElement("div");
    box.className = "chart-box";
    this.canvas = document.createElement("canvas");
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", key);
    this.band = document.createElement("div");
    this.band.className = "zoom-band";
    this.band.hidden = true;
    box.append(this.canvas, this.band);
    fig.append(cap, box);
    var before = Array.prototype.find.call(grid.children, function (el) { return el.dataset.metric > key; });
    grid.insertBefore(fig, before || null);
    this.el = fig;
    this.chart = null;
    this.zoom = null;
    var self = this;
    this.reset.addEventListener("click", function () { self.setZoom(null); });
    this.canvas.addEventListener("dblclick", function () { self.setZoom(null); });
    this.bindDrag(box);
  }

  Card.prototype.draw = function (type, data, options) {
    if (this.chart && this.chart.config.type !== type) { this.chart.destroy(); this.chart = null; }
    if (type === "line" && this.zoom) { options.scales.x.min = this.zoom[0]; options.scales.x.max = this.zoom[1]; }
    if (!this.chart) {
      this.chart = new window.Chart(this.canvas, { type: type, data: data, options: options });
    } else {
      this.chart.data.labels = data.labels;
      this.chart.data.datasets = data.datasets;
      this.chart.options = options;
    }
    this.chart.update("none");
  };

  Card.prototype.setZoom = function (range) {
    this.zoom = range;
    this.reset.hidden = !range;
    var x = this.chart.options.scales.x;
    x.min = range ? range[0] : undefined;
    x.max = range ? range[1] : undefined;
    this.chart.update("none");
    if (this.onZoom) this.onZoom(range);
  };

  // Drag across the plot to zoom the x axis (pointer events: mouse and pen; touch keeps scrolling).
  Card.prototype.bindDrag = function (box) {
    var self = this, start = null;
    function xIn(e) { return e.clientX - self.canvas.getBoundingClientRect().left; }
    box.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "touch" || e.button !== 0 || !self.chart || self.chart.config.type !== "line") return;
      start = xIn(e);
      self.band.style.left = start + "px";
      self.band.style.width = "0px";
      self.band.hidden = false;
    });
    box.addEventListener("pointermove", function (e) {
      if (start === null) return;
      var now = xIn(e);
      self.band.style.left = Math.min(start, now) + "px";
      self.band.style.width = Math.abs(now - start) + "px";
    });
    function end(e) {
      if (start === null) return;
      var now = xIn(e), from = Math.min(start, now), to = Math.max(start, now);
      start = null;
      self.band.hidden = true;
      if (to - from < 6) return;
      var scale = self.chart.scales.x;
      self.setZoom([scale.getValueForPixel(from), scale.getValueForPixel(to)]);
    }
    box.addEventListener("pointerup", end);
    box.addEventListener("pointerleave", end);
  };

  // --- a set of cards fed from runs: [{label, series: {key: points}}] ---------------------------------
  function Board(grid, bar) {
    this.grid = grid;
    this.bar = bar;
    this.cards = new Map();
    this.detail = {};  // key -> the points of a zoomed step range, fetched in more detail
    var self = this;
    if (bar && !bar.dataset.bound) {
      bar.dataset.bound = "true";
      restoreOptions(bar);
      bar.addEventListener("input", function (e) {
        if (e.target.matches("[data-chart-x]")) {  // a zoom range is in the old axis' units
          self.detail = {};
          self.cards.forEach(function (card) { card.zoom = null; card.reset.hidden = true; });
        }
        bar.querySelector("[data-chart-smooth-value]").textContent = bar.querySelector("[data-chart-smooth]").value;
        saveOptions(readOptions(bar));
        self.render();
      });
    }
  }

  Board.prototype.render = function (onlyKeys) {
    var o = readOptions(this.bar), self = this, keys = onlyKeys || this.keys();
    keys.forEach(function (key) {
      var card = self.cards.get(key);
      if (!card) {
        card = new Card(self.grid, key);
        card.onZoom = function (range) { self.zoomed(key, range); };
        self.cards.set(key, card);
        if (self.bar) self.bar.hidden = false;
      }
      var runs = self.runs.map(function (run, i) {
        var detail = i === 0 && card.zoom && self.detail[key];
        return { label: run.label, points: detail || run.series[key] || [] };
      });
      var drawn = runs.filter(function (r) { return r.points.length; });
      var total = drawn.reduce(function (n, r) { return n + r.points.length; }, 0);
      card.note.textContent = self.notes && self.notes[key] ? self.notes[key] : "";
      if (!drawn.length) card.note.textContent = "no value to draw (NaN only)";
      if (runs.length > 1 && drawn.length && drawn.every(function (r) { return r.points.length <= 1; })) {
        // every run logged one value: bars, one per run, coloured as its line would be
        card.note.textContent = "one value per run";
        card.draw("bar", {
          labels: runs.map(function (r) { return r.label; }),
          datasets: [{ label: key, data: runs.map(function (r) { return r.points.length ? r.points[0][1] : null; }),
                       backgroundColor: runs.map(function (r, i) { return PALETTE[i % PALETTE.length]; }) }],
        }, { animation: false, responsive: true, maintainAspectRatio: false,
             scales: { y: { type: o.log ? "logarithmic" : "linear" } }, plugins: { legend: { display: false } } });
      } else {
        card.draw("line", { datasets: lineDatasets(runs, o) }, lineOptions(o, runs.length > 1));
      }
      card.el.dataset.points = String(total);
    });
  };

  // A zoomed step range of a downsampled line is fetched again, downsampled on its own.
  Board.prototype.zoomed = function (key, range) {
    var self = this;
    if (!range) { if (this.detail[key]) { delete this.detail[key]; this.render([key]); } return; }
    if (!this.fetchDetail || readOptions(this.bar).x !== "step" || !(this.notes || {})[key]) return;
    this.fetchDetail(key, range).then(function (points) {
      var card = self.cards.get(key);
      if (!card || !card.zoom) return;
      self.detail[key] = points;
      self.render([key]);
    }).catch(function () { /* keep the coarse line */ });
  };

  Board.prototype.keys = function () {
    var seen = {};
    this.runs.forEach(function (run) { Object.keys(run.series).forEach(function (k) { seen[k] = true; }); });
    return Object.keys(seen).sort();
  };

  // --- the job page: load once, then follow with a cursor ---------------------------------------------
  function JobCharts(grid) {
    this.grid = grid;
    this.url = grid.dataset.seriesUrl;
    this.board = new Board(grid, document.querySelector("[data-chart-options]"));
    this.board.runs = [{ label: grid.dataset.runLabel || "", series: {} }];
    this.board.notes = {};
    var self = this;
    this.board.fetchDetail = function (key, range) {
      var q = "?key=" + encodeURIComponent(key) + "&from=" + Math.floor(range[0]) + "&to=" + Math.ceil(range[1]);
      return self.fetch(q).then(function (d) { return d.series[key] ? d.series[key].points : []; });
    };
    this.load();
  }

  JobCharts.prototype.fetch = function (query) {
    return fetch(this.url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  };

  JobCharts.prototype.load = function () {
    var self = this;
    this.fetch("").then(function (d) {
      var series = {};
      self.board.notes = {};
      self.totals = {};
      Object.keys(d.series).forEach(function (k) {
        series[k] = d.series[k].points;
        self.totals[k] = d.series[k].total;
        if (d.series[k].downsampled) self.note(k, series[k].length);
      });
      self.board.runs[0].series = series;
      self.cursor = d.cursor;
      self.board.render();
      self.next(d.final);
    }).catch(function () { self.retry(); });
  };

  JobCharts.prototype.poll = function () {
    var self = this;
    this.fetch("?after=" + this.cursor).then(function (d) {
      if (d.reset) { self.load(); return; }
      if (d.final) { self.load(); return; }  // one exact last read once the job has ended
      var series = self.board.runs[0].series, changed = [], reload = false;
      Object.keys(d.series).forEach(function (k) {
        var have = series[k] || (series[k] = []), add = d.series[k].points;
        var last = have.length ? have[have.length - 1][0] : -Infinity;
        Array.prototype.push.apply(have, add);
        if (add.length && add[0][0] < last) have.sort(function (a, b) { return a[0] - b[0] || a[2] - b[2]; });
        if (have.length > RELOAD_ABOVE) reload = true;
        self.totals[k] = (self.totals[k] || 0) + add.length;
        if (self.board.notes[k]) self.note(k, have.length);
        changed.push(k);
      });
      self.cursor = d.cursor;
      if (reload) { self.load(); return; }
      if (changed.length) self.board.render(changed.sort());
      self.next(false);
    }).catch(function () { self.retry(); });
  };

  JobCharts.prototype.note = function (key, drawn) {
    this.board.notes[key] = drawn.toLocaleString() + " of " + this.totals[key].toLocaleString() + " points drawn";
  };

  JobCharts.prototype.next = function (final) {
    var self = this;
    this.grid.dataset.final = final ? "true" : "false";
    if (!final && document.body.contains(this.grid)) this.timer = setTimeout(function () { self.poll(); }, POLL_MS);
  };
  JobCharts.prototype.retry = function () {
    var self = this;
    if (document.body.contains(this.grid)) this.timer = setTimeout(function () { self.cursor ? self.poll() : self.load(); }, POLL_MS * 2);
  };

  // --- the comparison page: everything arrives with the page -------------------------------------------
  function compare(grid) {
    var payload = JSON.parse(document.getElementById(grid.dataset.compare).textContent);
    var board = new Board(grid, document.querySelector("[data-chart-options]"));
    board.runs = payload.runs.map(function (run) { return { label: payload.labels[run], series: payload.series[run] || {} }; });
    board.render(payload.keys);
  }

  function start() {
    if (!window.Chart) return;
    var job = document.getElementById("metric-charts");
    if (job && !job.studioCharts) job.studioCharts = new JobCharts(job);
    var cmp = document.getElementById("compare-charts");
    if (cmp && !cmp.studioCharts) { cmp.studioCharts = true; compare(cmp); }
  }
  window.StudioMetrics = { smoothed: smoothed, toXY: toXY };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
