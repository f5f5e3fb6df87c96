// Endpoint pages: traffic sliders that keep their numbers in step and say the total; the Deploy
// form's fields that only matter for a new endpoint or a zip; the Test tab, which calls the real
// scoring URI from the browser (with the endpoint's key, fetched on demand) and times the answer.
(function () {
  "use strict";

  function trafficForm(form) {
    var total = form.querySelector("[data-traffic-total]");
    var save = form.querySelector("[data-traffic-save]");
    function sum() {
      var n = 0;
      form.querySelectorAll("[data-traffic-number]").forEach(function (el) { n += parseInt(el.value || "0", 10) || 0; });
      var ok = n === 100 || n === 0;
      total.textContent = "Total: " + n + "%" + (ok ? "" : " (must be 100)");
      total.classList.toggle("bad-total", !ok);
      save.disabled = !ok;
    }
    form.addEventListener("input", function (e) {
      var el = e.target, name = el.dataset.trafficSlider || el.dataset.trafficNumber;
      if (!name) return;
      var twin = el.dataset.trafficSlider !== undefined
        ? form.querySelector('[data-traffic-number="' + name + '"]')
        : form.querySelector('[data-traffic-slider="' + name + '"]');
      if (twin) twin.value = el.value;
      // With two deployments, moving one moves the other so the pair always sums to 100.
      var numbers = form.querySelectorAll("[data-traffic-number]");
      if (numbers.length === 2) {
        var value = Math.max(0, Math.min(100, parseInt(el.value || "0", 10) || 0));
        numbers.forEach(function (other) {
          if (other.dataset.trafficNumber === name) return;
          other.value = 100 - value;
          form.querySelector('[data-traffic-slider="' + other.dataset.trafficNumber + '"]').value = 100 - value;
        });
      }
      sum();
    });
    sum();
  }

  function deployForm(form) {
    var endpoint = form.querySelector("select[name=endpoint]");
    var code = form.querySelector("input[name=code]");
    var newFields = form.querySelector("[data-new-endpoint]");
    var zipOnly = form.querySelector("[data-zip-only]");
    var folder = form.querySelector("[data-code-folder]");
    function update() {
      if (endpoint && newFields) newFields.hidden = endpoint.value !== "__new__";
      if (code && zipOnly) {
        var name = code.files && code.files.length ? code.files[0].name.toLowerCase() : "";
        var picked = folder && folder.files && folder.files.length;
        zipOnly.hidden = !(name.slice(-4) === ".zip" || picked || zipOnly.querySelector(".error"));
      }
    }
    // A picked folder: each file's path inside it goes along (the server drops the folder's own name).
    if (folder) folder.addEventListener("change", function () {
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
      if (code) code.value = "";
    });
    form.addEventListener("change", update);
    update();
    window.addEventListener("pageshow", update);  // after Back restores the chosen endpoint (no change event)
  }

  function testForm(form) {
    var result = document.querySelector("[data-test-result]");
    var state = form.querySelector("[data-test-state]");
    var key = null;
    function credential() {
      if (form.dataset.authMode !== "key") {
        var token = form.querySelector("[data-test-token]");
        return Promise.resolve(token ? token.value.trim() : "");
      }
      if (key) return Promise.resolve(key);
      return fetch(form.dataset.keysUrl, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error("could not read the endpoint's key (" + r.status + ")"); return r.json(); })
        .then(function (d) { key = d.primary_key; return key; });
    }
    function show(status, ok, ms, who, text) {
      result.hidden = false;
      var badge = result.querySelector("[data-test-status]");
      badge.textContent = status;
      badge.className = "badge " + (ok ? "state-ok" : "state-bad");
      result.querySelector("[data-test-time]").textContent = ms === null ? "" : ms.toFixed(1) + " ms";
      result.querySelector("[data-test-who]").textContent = who ? "answered by " + who : "";
      var pretty = text;
      try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON: shown as it is */ }
      result.querySelector("[data-test-answer]").textContent = pretty;
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = form.querySelector("[data-test-body]").value;
      try { JSON.parse(body); } catch (err) {
        show("Not sent", false, null, "", "The request body is not JSON: " + err.message);
        return;
      }
      var deployment = form.querySelector("[data-test-deployment]").value;
      var button = form.querySelector("[data-test-send]");
      button.disabled = true;
      state.textContent = "Sending…";
      credential().then(function (secret) {
        var headers = { "Content-Type": "application/json", "Authorization": "Bearer " + secret };
        if (deployment) headers["azureml-model-deployment"] = deployment;
        var started = performance.now();
        return fetch(form.dataset.scoringUri, { method: "POST", headers: headers, body: body, credentials: "omit" })
          .then(function (r) {
            return r.text().then(function (text) {
              var ms = performance.now() - started;
              show(r.status + " " + (r.statusText || ""), r.ok, ms, r.headers.get("azureml-model-deployment"), text);
            });
          });
      }).catch(function (err) {
        show("Failed", false, null, "", String(err.message || err));
      }).then(function () { button.disabled = false; state.textContent = ""; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-traffic]").forEach(trafficForm);
    document.querySelectorAll(".deploy-form").forEach(deployForm);
    document.querySelectorAll("[data-test-form]").forEach(testForm);
  });
})();
