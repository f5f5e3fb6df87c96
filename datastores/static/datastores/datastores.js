// Datastore and data pages: show the fields of the chosen type/source, and upload files and
// folders with a progress bar (a multipart PUT whose CSRF token travels in a header, so the
// server streams it into storage). Without JavaScript the forms still post normally.
(function () {
  "use strict";

  function syncSwitches(root) {
    (root || document).querySelectorAll("[data-switch]").forEach(function (group) {
      var name = group.dataset.switch;
      var checked = group.querySelector("input:checked");
      if (!checked) return;
      var value = checked.value;
      document.querySelectorAll("[data-when-" + name + "]").forEach(function (block) {
        var wanted = block.getAttribute("data-when-" + name).split(" ");
        block.hidden = wanted.indexOf(value) < 0;
      });
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target.closest("[data-switch]")) syncSwitches();
  });
  document.addEventListener("DOMContentLoaded", function () { syncSwitches(); });
  document.addEventListener("htmx:afterSwap", function () { syncSwitches(); });

  document.addEventListener("click", function (e) {
    var tab = e.target.closest("[data-tab]");
    if (!tab) return;
    e.preventDefault();
    document.querySelectorAll("[data-tab]").forEach(function (t) {
      var on = t === tab;
      t.classList.toggle("active", on);
      t.setAttribute("aria-selected", on ? "true" : "false");
      document.getElementById(t.dataset.tab).hidden = !on;
    });
  });

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  document.addEventListener("submit", function (e) {
    var form = e.target.closest("form[data-upload]");
    if (!form || !window.FormData || !window.XMLHttpRequest) return;
    e.preventDefault();
    var body = new FormData();
    var url = new URL(form.action || window.location.href, window.location.href);
    var bytes = 0;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.name === "csrfmiddlewaretoken") return;
      if (el.type === "file") {
        Array.prototype.forEach.call(el.files, function (file) {
          // Keep folder structure: the server keeps "folder/file.csv" names (and refuses "..").
          body.append("file", file, file.webkitRelativePath || file.name);
          bytes += file.size;
        });
      } else if ((el.type === "checkbox" || el.type === "radio") && !el.checked) {
        return;
      } else if (el.dataset.query !== undefined) {
        url.searchParams.set(el.name, el.value);
      } else {
        body.append(el.name, el.value);
      }
    });
    var progress = form.querySelector(".upload-progress");
    var status = form.querySelector(".upload-status");
    var error = form.querySelector(".upload-error");
    var submit = form.querySelector("button[type=submit]");
    if (error) error.hidden = true;
    if (submit) submit.disabled = true;
    if (progress) { progress.hidden = false; progress.value = 0; }
    var xhr = new XMLHttpRequest();
    xhr.open("PUT", url.toString());
    xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
    xhr.upload.onprogress = function (ev) {
      if (!ev.lengthComputable) return;
      var pct = Math.round((ev.loaded / ev.total) * 100);
      if (progress) progress.value = pct;
      if (status) status.textContent = bytes ? "Uploading… " + pct + "%" : "Saving…";
    };
    xhr.onload = function () {
      var data = {};
      try { data = JSON.parse(xhr.responseText); } catch (err) { data = {detail: "The server answered " + xhr.status + "."}; }
      if (xhr.status < 300 && data.redirect) { window.location.assign(data.redirect); return; }
      if (submit) submit.disabled = false;
      if (progress) progress.hidden = true;
      if (status) status.textContent = "";
      if (data.html) {
        var holder = form.querySelector("[data-upload-body]");
        if (holder) { holder.innerHTML = data.html; syncSwitches(holder); return; }
      }
      if (error) { error.textContent = data.detail || "The upload failed."; error.hidden = false; }
    };
    xhr.onerror = function () {
      if (submit) submit.disabled = false;
      if (error) { error.textContent = "The connection to Studio was lost during the upload."; error.hidden = false; }
    };
    if (status) status.textContent = "Uploading…";
    xhr.send(body);
  });
})();
