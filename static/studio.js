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
  on("click", "[data-toggle-nav]", function () { document.body.classList.toggle("nav-open"); });
  on("change", "[data-autosubmit]", function (e, el) { el.form.requestSubmit(); });
  on("submit", "form[data-confirm]", function (e, form) {
    if (!window.confirm(form.dataset.confirm)) e.preventDefault();
  });
  on("click", "[data-copy]", function (e, el) {
    var text = document.querySelector(el.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(function () { el.textContent = "Copied"; });
  });
  // Top-bar menus (<details data-menu>): one open at a time; Esc or a click elsewhere closes them.
  function closeMenus(except) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (menu !== except) menu.open = false;
    });
  }
  document.addEventListener("toggle", function (e) {
    if (e.target.matches && e.target.matches("details[data-menu]") && e.target.open) closeMenus(e.target);
  }, true);
  document.addEventListener("click", function (e) {
    closeMenus(e.target.closest("details[data-menu]"));
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var open = document.querySelector("details[data-menu][open]");
    if (!open) return;
    open.open = false;
    open.querySelector("summary").focus();
  });
  function syncShown() {
    document.querySelectorAll("[data-shown-by]").forEach(function (block) {
      var box = document.getElementById(block.dataset.shownBy);
      block.hidden = box && !box.checked;
    });
  }
  on("change", "input[type=checkbox]", syncShown);
  // A form that came back with errors: focus its first field in error (the summary if that field
  // is not on screen), so keyboard and screen-reader users start where the problem is.
  function focusFirstError() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) return;
    var field = document.querySelector(
      ".has-error input:not([type=hidden]):not([disabled]), .has-error select:not([disabled]), .has-error textarea:not([disabled])");
    var visible = field && field.offsetParent !== null && !field.closest("[hidden]");
    (visible ? field : summary).focus();
    summary.scrollIntoView({ block: "nearest" });
  }
  on("click", "[data-error-summary] a[href^='#']", function (e, link) {
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    e.preventDefault();
    var closed = field.closest("details:not([open])");
    if (closed) closed.open = true;
    field.focus();
  });
  // A slug follows the name it is made from (data-slug-source) until the user edits it.
  on("input", "[data-slug-source]", function (e, name) {
    var slug = document.getElementById(name.dataset.slugSource);
    if (!slug || slug.readOnly || slug.disabled) return;
    if (slug.value && slug.value !== slug.dataset.auto) return;
    var value = name.value.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 50);
    slug.value = value;
    slug.dataset.auto = value;
  });
  document.addEventListener("DOMContentLoaded", function () {
    syncShown();
    focusFirstError();
    document.querySelectorAll("dialog[data-open-on-load]").forEach(function (d) { d.showModal(); });
  });
  document.addEventListener("htmx:afterSwap", syncShown);
  window.addEventListener("pageshow", syncShown);  // Back restores ticks after DOMContentLoaded, firing no change

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

  // A growing log box ([data-follow]) stays at its newest line unless the reader scrolled up,
  // whatever appends to it (htmx out-of-band swaps, polling).
  function follow(box) {
    if (box.studioFollow) return;
    box.studioFollow = true;
    var stuck = true;
    box.scrollTop = box.scrollHeight;
    box.addEventListener("scroll", function () { stuck = box.scrollHeight - box.scrollTop - box.clientHeight < 40; });
    new MutationObserver(function () { if (stuck) box.scrollTop = box.scrollHeight; })
      .observe(box, { childList: true, subtree: true, characterData: true });
  }
  function followAll() { document.querySelectorAll("[data-follow]").forEach(follow); }
  document.addEventListener("DOMContentLoaded", followAll);
  document.addEventListener("htmx:load", followAll);
})();
