/* ruralkg: draw a network built by api/views/network.py (pyvis nodes, edges, options).
   Shared by the explorer pages and the standalone/notebook HTML, so both draw the same way.
   Names reach vis-network as data; it paints them on a canvas and shows titles as text. */
(function (global) {
  "use strict";

  // Small networks are zoomed in up to this much to fill the view (vis-network stops at 1).
  var FIT_MAX_ZOOM = 1.6;

  function visOptions(options) {
    var copy = JSON.parse(JSON.stringify(options || {}));
    delete copy.ruralkg;
    return copy;
  }

  // Draws `data` ({nodes, edges, options}) into `container`. Returns {network, nodes, edges,
  // physics}; `onSettled(state)` runs after the first frame drawn with the layout settled
  // (at once with computed positions; after stabilisation with browser physics, which is then
  // switched off so the view stops moving).
  function draw(container, data, onSettled) {
    var options = visOptions(data.options);
    var physics = !!(options.physics && options.physics.enabled);
    var nodes = new global.vis.DataSet(data.nodes);
    var edges = new global.vis.DataSet(data.edges);
    var network = new global.vis.Network(container, { nodes: [], edges: [] }, options);
    var state = { network: network, nodes: nodes, edges: edges, physics: physics, settledAt: null };
    function settleOnNextFrame() {
      network.once("afterDrawing", function () {
        state.settledAt = global.performance.now();
        container.setAttribute("data-settled", "true");
        if (onSettled) onSettled(state);
      });
    }
    if (physics) {
      network.once("stabilizationIterationsDone", function () {
        network.setOptions({ physics: { enabled: false } });
        network.fit({ animation: false, maxZoomLevel: FIT_MAX_ZOOM });
        settleOnNextFrame();
        network.redraw();
      });
    } else {
      settleOnNextFrame();
    }
    network.setData({ nodes: nodes, edges: edges });
    if (!physics) network.fit({ animation: false, maxZoomLevel: FIT_MAX_ZOOM });
    return state;
  }

  global.ruralkgNetwork = { draw: draw };
})(window);
