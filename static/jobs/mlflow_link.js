// MLflow UI links (#/experiments/<id>/runs/<run>) carry the run in the fragment, which only the browser sees.
(function () {
  var m = /^#\/experiments\/(\d+)(?:\/runs\/([A-Za-z0-9_.-]+))?/.exec(window.location.hash);
  if (m) {
    var q = "?experiment=" + encodeURIComponent(m[1]) + (m[2] ? "&run=" + encodeURIComponent(m[2]) : "");
    window.location.replace(window.location.pathname + q);
  }
})();
