/* The pipeline graph: cytoscape + dagre (vendored), fed by graph.json. Nodes are steps coloured
   by state, edges the data bindings labelled "output -> input". While the pipeline runs the JSON
   is polled and nodes are updated in place (never re-created); a click opens the step's panel. */
(function () {
  "use strict";
  var COLOURS = {
    waiting: ["#eef0f4", "#5d6778"],
    running: ["#e8f1fd", "#1c3f8f"],
    completed: ["#e3f4e9", "#137a3a"],
    reused: ["#efe8fb", "#5b3a99"],
    failed: ["#fde8e6", "#b42318"],
    canceled: ["#fff3d6", "#8a5a00"],
    skipped: ["#fff3d6", "#8a5a00"]
  };

  function fill(state) { return (COLOURS[state] || COLOURS.waiting)[0]; }
  function ink(state) { return (COLOURS[state] || COLOURS.waiting)[1]; }

  function elements(data) {
    var out = [];
    data.nodes.forEach(function (n) { out.push({ group: "nodes", data: { id: n.id, label: n.label, state: n.state } }); });
    data.edges.forEach(function (e, i) {
      out.push({ group: "edges", data: { id: "e" + i + "-" + e.source + "-" + e.target, source: e.source, target: e.target, label: e.label } });
    });
    return out;
  }

  function openPanel(box, step) {
    var url = box.getAttribute("data-panel-url") + encodeURIComponent(step) + "/";
    var panel = document.getElementById("step-panel");
    if (window.htmx) { window.htmx.ajax("GET", url, { target: panel, swap: "innerHTML" }); return; }
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { return r.text(); })
      .then(function (html) { panel.innerHTML = html; });
  }

  function start(box) {
    var url = box.getAttribute("data-graph-url");
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      var cy = window.cytoscape({
        container: box,
        elements: elements(data),
        userZoomingEnabled: false,
        boxSelectionEnabled: false,
        autoungrabify: true,
        style: [
          { selector: "node", style: {
            "shape": "round-rectangle", "width": 130, "height": 46, "label": "data(label)",
            "text-wrap": "wrap", "text-valign": "center", "font-size": 12, "border-width": 2,
            "background-color": function (n) { return fill(n.data("state")); },
            "border-color": function (n) { return ink(n.data("state")); },
            "color": function (n) { return ink(n.data("state")); }
          } },
          { selector: "node:selected", style: { "border-width": 4 } },
          { selector: "edge", style: {
            "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 2,
            "line-color": "#9aa3b2", "target-arrow-color": "#9aa3b2",
            "label": "data(label)", "font-size": 10, "text-background-color": "#fff",
            "text-background-opacity": 1, "text-background-padding": 2, "color": "#5d6778"
          } }
        ],
        layout: { name: "dagre", rankDir: "LR", nodeSep: 30, rankSep: 90 }
      });
      window.studioPipelineGraph = cy;
      window.addEventListener("resize", function () { cy.resize(); cy.fit(undefined, 20); });
      cy.on("tap", "node", function (evt) { openPanel(box, evt.target.id()); });
      box.setAttribute("data-ready", "true");
      if (!data.final) { poll(cy, url); }
    });
  }

  function poll(cy, url) {
    var timer = setInterval(function () {
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        cy.batch(function () {
          data.nodes.forEach(function (n) {
            var node = cy.getElementById(n.id);
            if (node.nonempty() && node.data("state") !== n.state) { node.data({ state: n.state, label: n.label }); }
          });
        });
        if (data.final) { clearInterval(timer); }
      });
    }, 1500);
  }

  function init() {
    var box = document.getElementById("pipeline-graph");
    if (box && window.cytoscape) { start(box); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
