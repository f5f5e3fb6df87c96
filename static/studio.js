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
})();
