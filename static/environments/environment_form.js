// A folder upload sends bare file names; keep each file's path inside the folder beside it.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches("input[data-folder-paths]")) return;
  var paths = Array.prototype.map.call(input.files, function (f) { return f.webkitRelativePath || f.name; });
  document.getElementById(input.dataset.folderPaths).value = JSON.stringify(paths);
});
