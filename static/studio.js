// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  function on(type, selector, handler) {
    document.addEventListener(type, function (event) {
      var el = event.target.closest(selector);
      if (el) handler(event, el);
    });
  }
  on("click", "[data-open]", function (e, el) {
    var dialog = document.getElementById(el.dataset.open);
    if (dialog) dialog.showModal();
  });
  on("click", "[data-close]", function (e, el) { el.closest("dialog").close(); });
  on("click", "[data-dismiss]", function (e, el) { el.parentElement.remove(); });
  on("click", "[data-history-back]", function () { window.history.back(); });
  // A log that htmx appends to (out of band) stays scrolled to its newest line.
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    var log = e.target;
    if (log.matches && log.matches("[data-follow-tail]")) log.scrollTop = log.scrollHeight;
  });
  on("click", "[data-toggle-nav]", function () { document.body.classList.toggle("nav-open"); });
  on("change", "[data-autosubmit]", function (e, el) { el.form.requestSubmit(); });
  on("submit", "form[data-confirm]", function (e, form) {
    if (!window.confirm(form.dataset.confirm)) e.preventDefault();
  });
  on("click", "[data-copy]", function (e, el) {
    var text = document.querySelector(el.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(function () { el.textContent = "Copied"; });
  });
  function syncShown() {
    document.querySelectorAll("[data-shown-by]").forEach(function (block) {
      var box = document.getElementById(block.dataset.shownBy);
      block.hidden = box && !box.checked;
    });
  }
  on("change", "input[type=checkbox]", syncShown);
  document.addEventListener("DOMContentLoaded", function () {
    syncShown();
    document.querySelectorAll("dialog[data-open-on-load]").forEach(function (d) { d.showModal(); });
  });
  document.addEventListener("htmx:afterSwap", syncShown);

  // Top-bar search: "/" focuses the box; arrows walk the dropdown; Esc or a click elsewhere closes it.
  function searchBox() { return document.querySelector("[data-search] input[name=search]"); }
  function closeSearch() {
    var drop = document.getElementById("search-dropdown");
    if (drop) drop.innerHTML = "";
  }
  document.addEventListener("keydown", function (e) {
    var box = searchBox();
    if (!box) return;
    var typing = e.target.closest("input, textarea, select, [contenteditable]");
    if (e.key === "/" && !typing) { e.preventDefault(); box.focus(); box.select(); return; }
    var form = e.target.closest("[data-search]");
    if (!form) return;
    var hits = Array.prototype.slice.call(form.querySelectorAll("#search-dropdown a"));
    var at = hits.indexOf(document.activeElement);
    if (e.key === "Escape") { closeSearch(); box.focus(); }
    else if (e.key === "ArrowDown" && hits.length) { e.preventDefault(); hits[Math.min(at + 1, hits.length - 1)].focus(); }
    else if (e.key === "ArrowUp" && hits.length) { e.preventDefault(); if (at <= 0) box.focus(); else hits[at - 1].focus(); }
  });
  document.addEventListener("click", function (e) { if (!e.target.closest("[data-search]")) closeSearch(); });

  // Run tables' column chooser: the choice is kept per user and table in localStorage and
  // re-applied after every htmx refresh of the rows.
  function colMemory(scope) {
    try { return JSON.parse(localStorage.getItem("studio.cols." + scope)) || {}; } catch (e) { return {}; }
  }
  function applyColumns() {
    document.querySelectorAll("[data-col-scope]").forEach(function (chooser) {
      var memory = colMemory(chooser.dataset.colScope);
      chooser.querySelectorAll("[data-col-toggle]").forEach(function (box) {
        var id = box.dataset.colToggle;
        if (id in memory) box.checked = memory[id];
        document.querySelectorAll("[data-col]").forEach(function (cell) {
          if (cell.dataset.col === id) cell.hidden = !box.checked;
        });
      });
    });
  }
  on("change", "[data-col-toggle]", function (e, box) {
    var scope = box.closest("[data-col-scope]").dataset.colScope;
    var memory = colMemory(scope);
    memory[box.dataset.colToggle] = box.checked;
    try { localStorage.setItem("studio.cols." + scope, JSON.stringify(memory)); } catch (err) { /* no storage */ }
    applyColumns();
  });
  document.addEventListener("DOMContentLoaded", applyColumns);
  document.addEventListener("htmx:afterSwap", applyColumns);
})();
