// Studio's log viewer: opens a job log at its tail, follows it live over server-sent events
// (resuming from Last-Event-ID after any disconnect), renders ANSI colours, collapses
// carriage-return progress bars to their last state, auto-scrolls unless the reader scrolled up,
// searches, and loads earlier parts on demand so a million-line log never freezes the page.
(function () {
  "use strict";
  var TAIL = 256 * 1024;       // characters loaded when a log opens
  var EARLIER = 512 * 1024;    // characters per "load earlier"
  var MAX_LINES = 20000;       // lines kept in the page; older ones are dropped (and can be reloaded)

  // --- ANSI SGR to HTML --------------------------------------------------------------------
  var BASIC = ["#1d1f21", "#cc342b", "#198844", "#c18401", "#3971ed", "#a36ac7", "#0e9aa7", "#c5c8c6",
               "#666666", "#ff5f56", "#38c172", "#e5c07b", "#61afef", "#c678dd", "#56b6c2", "#ffffff"];
  function color256(n) {
    if (n < 16) return BASIC[n];
    if (n < 232) {
      n -= 16;
      var steps = [0, 95, 135, 175, 215, 255];
      return "rgb(" + steps[Math.floor(n / 36)] + "," + steps[Math.floor(n / 6) % 6] + "," + steps[n % 6] + ")";
    }
    var g = 8 + (n - 232) * 10;
    return "rgb(" + g + "," + g + "," + g + ")";
  }
  function freshStyle() { return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false }; }
  function applySgr(params, st) {
    var codes = params === "" ? [0] : params.split(";").map(function (p) { return parseInt(p || "0", 10); });
    for (var i = 0; i < codes.length; i++) {
      var c = codes[i];
      if (c === 0) { var f = freshStyle(); for (var k in f) st[k] = f[k]; }
      else if (c === 1) st.bold = true;
      else if (c === 2) st.dim = true;
      else if (c === 3) st.italic = true;
      else if (c === 4) st.underline = true;
      else if (c === 22) { st.bold = false; st.dim = false; }
      else if (c === 23) st.italic = false;
      else if (c === 24) st.underline = false;
      else if (c >= 30 && c <= 37) st.fg = BASIC[c - 30];
      else if (c === 39) st.fg = null;
      else if (c >= 40 && c <= 47) st.bg = BASIC[c - 40];
      else if (c === 49) st.bg = null;
      else if (c >= 90 && c <= 97) st.fg = BASIC[c - 90 + 8];
      else if (c >= 100 && c <= 107) st.bg = BASIC[c - 100 + 8];
      else if ((c === 38 || c === 48) && codes[i + 1] === 5) {
        st[c === 38 ? "fg" : "bg"] = color256(codes[i + 2] || 0); i += 2;
      } else if ((c === 38 || c === 48) && codes[i + 1] === 2) {
        st[c === 38 ? "fg" : "bg"] = "rgb(" + (codes[i + 2] || 0) + "," + (codes[i + 3] || 0) + "," + (codes[i + 4] || 0) + ")"; i += 4;
      }
    }
  }
  var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
  function escapeHtml(t) { return t.replace(/[&<>"]/g, function (ch) { return ESCAPES[ch]; }); }
  function styled(text, st) {
    if (!text) return "";
    var css = [];
    if (st.fg) css.push("color:" + st.fg);
    if (st.bg) css.push("background:" + st.bg);
    if (st.bold) css.push("font-weight:700");
    if (st.dim) css.push("opacity:.7");
    if (st.italic) css.push("font-style:italic");
    if (st.underline) css.push("text-decoration:underline");
    var safe = linkify(escapeHtml(text));
    return css.length ? '<span style="' + css.join(";") + '">' + safe + "</span>" : safe;
  }
  // http(s) URLs in (already escaped) text become links; only &amp; may appear inside one, so a
  // quote or angle bracket always ends it, and trailing punctuation stays text.
  var URL_IN_ESCAPED = /https?:\/\/(?:[^\s<>"&]|&amp;)+/g;
  function linkify(safe) {
    return safe.replace(URL_IN_ESCAPED, function (url) {
      var tail = url.match(/[.,;:!?)\]}']+$/), rest = tail ? tail[0] : "";
      if (rest) url = url.slice(0, -rest.length);
      return '<a href="' + url + '" target="_blank" rel="noopener noreferrer">' + url + "</a>" + rest;
    });
  }
  function row(offset, n, html, extra) {
    return '<div class="ln' + (extra || "") + '"' + (offset === null ? "" : ' data-o="' + offset + '"') +
      (n ? ' id="L' + n + '" data-n="' + n + '"><a class="lno" href="#L' + n + '" tabindex="-1" aria-hidden="true">' + n + "</a>" : ">") +
      '<span class="lt">' + (html || " ") + "</span></div>";
  }

  var CSI = /\x1b\[([0-9;?]*)([A-Za-z])/g;
  var OTHER_ESC = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>78]/g;
  // One line to HTML. Carriage returns: only the text after the last \r is shown (a progress bar's
  // final state), but colour codes before it still count.
  function renderLine(line, st) {
    line = line.replace(OTHER_ESC, "");
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    var cr = line.lastIndexOf("\r");
    if (cr >= 0) {
      var dropped = line.slice(0, cr), m;
      CSI.lastIndex = 0;
      while ((m = CSI.exec(dropped))) if (m[2] === "m") applySgr(m[1], st);
      line = line.slice(cr + 1);
    }
    var out = "", last = 0, match;
    CSI.lastIndex = 0;
    while ((match = CSI.exec(line))) {
      out += styled(line.slice(last, match.index), st);
      last = CSI.lastIndex;
      if (match[2] === "m") applySgr(match[1], st);
    }
    return out + styled(line.slice(last), st);
  }
  function plain(line) {
    line = line.replace(OTHER_ESC, "").replace(CSI, "");
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    return line.slice(line.lastIndexOf("\r") + 1);
  }

  // --- the viewer -----------------------------------------------------------------------------
  function Viewer(root) {
    this.root = root;
    this.body = root.querySelector("[data-log-body]");
    this.stateEl = root.querySelector("[data-log-state]");
    this.earlierBtn = root.querySelector("[data-log-earlier]");
    this.jumpBtn = root.querySelector("[data-log-jump]");
    this.searchEl = root.querySelector("[data-log-search]");
    this.hitsEl = root.querySelector("[data-log-hits]");
    this.follow = true;
    this.queue = [];
    this.frame = 0;
    var self = this;
    this.body.addEventListener("scroll", function () {
      var atBottom = self.body.scrollHeight - self.body.scrollTop - self.body.clientHeight < 40;
      if (atBottom !== self.follow) { self.follow = atBottom; self.showFollow(); }
    });
    this.jumpBtn.addEventListener("click", function () { self.follow = true; self.scrollToEnd(); self.showFollow(); });
    this.earlierBtn.addEventListener("click", function () { self.loadEarlier(); });
    root.querySelector("[data-log-wrap]").addEventListener("change", function (e) { self.body.classList.toggle("wrap", e.target.checked); });
    var timer;
    this.searchEl.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { self.search(); }, 200); });
    this.searchEl.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); self.step(e.shiftKey ? -1 : 1); } });
    root.querySelector("[data-log-next]").addEventListener("click", function () { self.step(1); });
    root.querySelector("[data-log-prev]").addEventListener("click", function () { self.step(-1); });
    // Delegated: the file list re-reads itself while the job runs, replacing these links.
    document.addEventListener("click", function (e) {
      var link = e.target.closest("[data-log-file]");
      if (!link || e.ctrlKey || e.metaKey || e.shiftKey) return;
      e.preventDefault();
      document.querySelectorAll("[data-log-file]").forEach(function (l) { l.classList.toggle("active", l === link); });
      history.replaceState(null, "", "?file=" + encodeURIComponent(link.dataset.logFile));
      self.open(link.dataset.logFile);
    });
    document.addEventListener("htmx:afterSwap", function () {  // a refreshed list marks the open file
      document.querySelectorAll("[data-log-file]").forEach(function (l) { l.classList.toggle("active", l.dataset.logFile === self.file); });
    });
    window.addEventListener("hashchange", function () { self.goToHash(); });
    this.open(root.dataset.file);
  }

  Viewer.prototype.setState = function (text, kind) {
    this.stateEl.textContent = text;
    this.stateEl.className = "log-state small state-" + (kind || "idle");
  };

  Viewer.prototype.showFollow = function () {
    this.jumpBtn.hidden = this.follow;
    if (this.live) this.setState(this.follow ? "● Live" : "Paused: scrolled up", this.follow ? "live" : "paused");
  };

  Viewer.prototype.open = function (file) {
    if (this.source) this.source.close();
    this.file = file;
    this.gen = (this.gen || 0) + 1;
    this.body.innerHTML = "";
    this.style = freshStyle();
    this.pending = "";
    this.pendingEl = null;
    this.cursor = 0;
    this.lines = 0;
    this.live = false;
    this.follow = true;
    this.hits = [];
    this.earlierLoads = 0;
    // A file link may name itself for people (an endpoint's instance ids mean little to them).
    var link = document.querySelector('[data-log-file="' + (window.CSS && CSS.escape ? CSS.escape(file) : file) + '"]');
    var label = (link && link.dataset.logLabel) || file;
    var name = this.root.querySelector(".log-name");
    name.textContent = label;
    name.title = label;
    this.body.setAttribute("aria-label", label);
    this.root.querySelector("[data-log-download]").href = this.root.dataset.downloadUrl + "?file=" + encodeURIComponent(file);
    this.setState("Loading…");
    var self = this, gen = this.gen;
    fetch(this.url(this.root.dataset.sliceUrl, { offset: -TAIL, limit: TAIL, lines: 1 }), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) {
        if (gen !== self.gen) return;
        self.first = d.offset;
        self.cursor = d.offset;
        self.earlierBtn.hidden = d.offset <= 0;
        self.updateEarlier();
        var text = d.text;
        self.lineNo = d.line || 1;
        if (d.offset > 0) {  // start at a whole line
          var nl = text.indexOf("\n");
          self.first = self.cursor = d.offset + nl + 1;
          text = text.slice(nl + 1);
          self.lineNo += 1;
        }
        self.next = d.next_offset;
        self.append(text, true);
        if (!d.text) self.showEmpty(d.final);
        if (d.final) { self.finish(d.status); } else { self.connect(); }
        self.goToHash();
      })
      .catch(function (err) { self.setState("Could not load the log (" + err.message + "); retrying…", "error"); setTimeout(function () { if (gen === self.gen) self.open(file); }, 2000); });
  };

  Viewer.prototype.url = function (base, params) {
    var q = "file=" + encodeURIComponent(this.file);
    for (var k in params) q += "&" + k + "=" + encodeURIComponent(params[k]);
    return base + "?" + q;
  };

  Viewer.prototype.showEmpty = function (final) {
    if (this.lines || this.pending) return;
    this.body.innerHTML = '<div class="log-empty">' + (final ? "This log is empty." : "Waiting for the first line…") + "</div>";
  };

  Viewer.prototype.connect = function () {
    var self = this, gen = this.gen;
    this.live = true;
    this.showFollow();
    var source = new EventSource(this.url(this.root.dataset.streamUrl, { offset: this.next }));
    this.source = source;
    source.addEventListener("log", function (e) {
      if (gen !== self.gen) return;
      var d = JSON.parse(e.data), text = d.text;
      if (d.offset < self.next) text = text.slice(self.next - d.offset);  // overlap after a reconnect
      self.next = d.offset + d.text.length;
      if (text) self.append(text, false);
    });
    source.addEventListener("skip", function (e) {
      var d = JSON.parse(e.data);
      self.flushPending();
      self.marker("… " + Math.round((d.to - d.from) / 1024) + " KB written faster than shown were skipped here (download the file for everything) …");
      self.next = d.to;
      self.cursor = d.to;
      self.lineNo = 0;  // lines were skipped: numbering stops rather than lie
    });
    source.addEventListener("status", function (e) { self.root.dataset.status = JSON.parse(e.data).status; });
    source.addEventListener("end", function (e) {
      source.close();
      self.finish((JSON.parse(e.data || "{}").status) || self.root.dataset.status);
    });
    source.onerror = function () { if (self.live) self.setState("Reconnecting…", "error"); };
    source.onopen = function () { self.showFollow(); };
  };

  Viewer.prototype.finish = function (status) {
    this.live = false;
    this.flushPending();
    this.flush();
    var subject = this.root.dataset.subject || "job";  // what ended: a job, or an endpoint's instance
    this.setState(status ? "Ended: " + subject + " " + status : "Ended", "ended");
    if (!this.lines) this.showEmpty(true);
    this.root.dataset.final = "true";
  };

  Viewer.prototype.marker = function (text) {
    this.body.insertAdjacentHTML("beforeend", '<div class="log-marker">' + escapeHtml(text) + "</div>");
  };

  // Text arrives in pieces; whole lines are rendered once, the unfinished last line is redrawn.
  Viewer.prototype.append = function (text, now) {
    this.queue.push(text);
    if (now) { this.flush(); return; }
    var self = this;
    if (!this.frame) this.frame = requestAnimationFrame(function () { self.frame = 0; self.flush(); });
  };

  Viewer.prototype.flush = function () {
    if (!this.queue.length) return;
    var empty = this.body.querySelector(".log-empty");
    if (empty) empty.remove();
    var text = this.pending + this.queue.join("");
    this.queue = [];
    var parts = text.split("\n");
    this.pending = parts.pop();
    var html = [];
    for (var i = 0; i < parts.length; i++) {
      html.push(row(this.cursor, this.lineNo, renderLine(parts[i], this.style)));
      this.cursor += parts[i].length + 1;
      if (this.lineNo) this.lineNo += 1;
    }
    if (this.pendingEl) { this.pendingEl.remove(); this.pendingEl = null; }
    if (html.length) this.body.insertAdjacentHTML("beforeend", html.join(""));
    this.lines += parts.length;
    if (this.pending) {
      var st = Object.assign({}, this.style);
      this.body.insertAdjacentHTML("beforeend", row(null, this.lineNo, renderLine(this.pending, st), " live-line"));
      this.pendingEl = this.body.lastElementChild;
    }
    this.trim();
    if (this.follow) this.scrollToEnd();
  };

  Viewer.prototype.flushPending = function () {
    this.flush();
    if (this.pendingEl) {
      this.pendingEl.classList.remove("live-line");
      this.pendingEl = null;
      this.cursor += this.pending.length;
      this.pending = "";
      this.lines += 1;
      if (this.lineNo) this.lineNo += 1;
    }
  };

  Viewer.prototype.trim = function () {
    var extra = this.lines - MAX_LINES;
    if (extra <= 0) return;
    var rows = this.body.querySelectorAll(".ln");
    for (var i = 0; i < extra && i < rows.length; i++) rows[i].remove();
    this.lines -= extra;
    var firstRow = this.body.querySelector(".ln[data-o]");
    if (firstRow) this.first = parseInt(firstRow.dataset.o, 10);
    this.earlierBtn.hidden = this.first <= 0;
    this.updateEarlier();
  };

  Viewer.prototype.updateEarlier = function () {
    if (!this.earlierBtn.hidden) this.earlierBtn.textContent = "↑ Load earlier lines (" + Math.round(this.first / 1024) + " KB before this)";
  };

  Viewer.prototype.loadEarlier = function () {
    var self = this, gen = this.gen, end = this.first, start = Math.max(0, end - EARLIER);
    this.earlierBtn.disabled = true;
    fetch(this.url(this.root.dataset.sliceUrl, { offset: start, limit: end - start, lines: 1 }), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        self.earlierBtn.disabled = false;
        if (gen !== self.gen) return;
        var text = d.text, from = d.offset, n = d.line || 1;
        if (from > 0) { var nl = text.indexOf("\n"); from += nl + 1; text = text.slice(nl + 1); n += 1; }
        if (text.charAt(text.length - 1) === "\n") text = text.slice(0, -1);
        var st = freshStyle(), cursor = from, html = [];
        text.split("\n").forEach(function (line) {
          html.push(row(cursor, n, renderLine(line, st)));
          cursor += line.length + 1;
          n += 1;
        });
        var before = self.body.scrollHeight;
        self.body.insertAdjacentHTML("afterbegin", html.join(""));
        self.body.scrollTop += self.body.scrollHeight - before;
        self.first = from;
        self.earlierBtn.hidden = from <= 0;
        self.updateEarlier();
        if (self.wanted) self.goToLine(self.wanted);
      })
      .catch(function () { self.earlierBtn.disabled = false; });
  };

  // Links to a line: #L123 scrolls to it and marks it; earlier parts of a long log load as needed.
  Viewer.prototype.goToHash = function () {
    var m = /^#L(\d+)$/.exec(location.hash);
    if (m) this.goToLine(parseInt(m[1], 10));
  };

  Viewer.prototype.goToLine = function (n) {
    var target = document.getElementById("L" + n);
    this.body.querySelectorAll(".ln.target").forEach(function (el) { el.classList.remove("target"); });
    if (target && this.body.contains(target)) {
      this.wanted = 0;
      target.classList.add("target");
      this.follow = false;
      this.showFollow();
      this.body.scrollTop = target.offsetTop - this.body.clientHeight / 3;
      return;
    }
    var firstShown = this.body.querySelector(".ln[data-n]");
    if (firstShown && n < parseInt(firstShown.dataset.n, 10) && this.first > 0 && (this.earlierLoads || 0) < 40) {
      this.wanted = n;
      this.earlierLoads = (this.earlierLoads || 0) + 1;
      this.loadEarlier();
    } else {
      this.wanted = 0;
    }
  };

  Viewer.prototype.scrollToEnd = function () { this.body.scrollTop = this.body.scrollHeight; };

  Viewer.prototype.search = function () {
    var q = this.searchEl.value.trim().toLowerCase();
    this.body.querySelectorAll(".hit").forEach(function (el) { el.classList.remove("hit", "hit-current"); });
    this.hits = [];
    this.hit = -1;
    if (!q) { this.hitsEl.textContent = ""; return; }
    var rows = this.body.querySelectorAll(".ln");
    for (var i = 0; i < rows.length; i++) {
      var lt = rows[i].querySelector(".lt") || rows[i];
      if (plain(lt.textContent).toLowerCase().indexOf(q) >= 0) { rows[i].classList.add("hit"); this.hits.push(rows[i]); }
    }
    this.hitsEl.textContent = this.hits.length ? this.hits.length + " found" : "no match";
    if (this.hits.length) this.step(1);
  };

  Viewer.prototype.step = function (dir) {
    if (!this.hits.length) { this.search(); return; }
    if (this.hit >= 0) this.hits[this.hit].classList.remove("hit-current");
    this.hit = (this.hit + dir + this.hits.length) % this.hits.length;
    var row = this.hits[this.hit];
    row.classList.add("hit-current");
    this.follow = false;
    this.showFollow();
    this.body.scrollTop = row.offsetTop - this.body.clientHeight / 2;
    this.hitsEl.textContent = (this.hit + 1) + " / " + this.hits.length;
  };

  window.StudioLogViewer = { renderLine: renderLine, freshStyle: freshStyle };
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("log-viewer");
    if (root) root.viewer = new Viewer(root);
  });
})();
