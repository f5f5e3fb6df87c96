// Folder uploads keep each file's path relative to the picked folder; new experiment field only when asked for.
(function () {
  var form = document.querySelector("[data-job-form]");
  if (!form) return;
  function sync() {
    var source = (form.querySelector("input[name=code_source]:checked") || {}).value;
    form.querySelectorAll("[data-code-panel]").forEach(function (p) { p.hidden = p.dataset.codePanel !== source; });
    var exp = form.querySelector("select[name=experiment]");
    form.querySelector("[data-new-experiment]").hidden = !exp || exp.value !== "__new__";
  }
  form.addEventListener("change", sync);
  sync();
  // Back restores the ticked radio and chosen experiment after this script ran, firing no change:
  // pageshow comes after the restore, so the panels follow the restored values.
  window.addEventListener("pageshow", sync);
  var folder = form.querySelector("[data-code-folder]");
  folder.addEventListener("change", function () {
    form.querySelectorAll("input[name=code_paths]").forEach(function (i) { i.remove(); });
    var bytes = 0;
    Array.prototype.forEach.call(folder.files, function (f) {
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = "code_paths"; hidden.value = f.webkitRelativePath || f.name;
      form.appendChild(hidden);
      bytes += f.size;
    });
    form.querySelector("[data-code-folder-summary]").textContent =
      folder.files.length + " file(s), " + (bytes / 1024).toFixed(1) + " KB";
  });
})();
