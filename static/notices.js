// Toasts for the signed-in user's own jobs that end while Studio is open. Polls a tiny feed with a
// cursor (kept across pages in sessionStorage) and only while the tab is visible.
(function () {
  "use strict";
  var EVERY_MS = 10000, SHOW_MS = 12000, KEY = "studio.endedJobs";

  function load() {
    try { return JSON.parse(sessionStorage.getItem(KEY)) || {}; } catch (e) { return {}; }
  }
  function save(state) {
    try { sessionStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode: no memory */ }
  }
  function toast(box, job) {
    var item = document.createElement("div");
    var good = job.status === "Completed";
    item.className = "toast " + (good ? "toast-ok" : job.status === "Failed" ? "toast-bad" : "toast-info");
    var link = document.createElement("a");
    link.href = job.url;
    link.textContent = job.display_name;
    var text = document.createElement("span");
    text.textContent = " " + job.status.toLowerCase() + " · " + job.workspace;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "flash-close";
    close.setAttribute("aria-label", "Dismiss");
    close.setAttribute("data-dismiss", "");
    close.textContent = "×";
    item.append(link, text, close);
    box.append(item);
    setTimeout(function () { item.remove(); }, SHOW_MS);
  }
  function poll(box) {
    if (document.hidden) return;
    var state = load();
    var url = box.dataset.endedFeed + (state.cursor ? "?since=" + encodeURIComponent(state.cursor) : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var seen = state.seen || [];
        data.jobs.forEach(function (job) {
          var id = job.workspace + "/" + job.name;
          if (seen.indexOf(id) === -1) { seen.push(id); toast(box, job); }
        });
        save({ cursor: data.cursor, seen: seen.slice(-50) });
      })
      .catch(function () { /* offline for a moment: the next poll catches up from the cursor */ });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("toasts");
    if (!box || !window.fetch) return;
    poll(box);
    setInterval(function () { poll(box); }, EVERY_MS);
    document.addEventListener("visibilitychange", function () { poll(box); });
  });
})();
