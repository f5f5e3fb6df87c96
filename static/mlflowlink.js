// MLflow prints links into its own UI (#/experiments/<id>/runs/<run>); the part after "#" never
// reaches the server, so this page sends it back as a query and Studio redirects to the job.
(function () {
  "use strict";
  var m = /^#\/experiments\/(\d+)(?:\/runs\/([A-Za-z0-9_.-]+))?/.exec(window.location.hash);
  if (m) {
    var q = "?experiment=" + encodeURIComponent(m[1]) + (m[2] ? "&run=" + encodeURIComponent(m[2]) : "");
    window.location.replace(window.location.pathname + q);
  }
})();
