// Chart-only mode of the bundle (ChartWidget, the offline notebook renderer): one Vega-Lite spec made in Python,
// drawn by the explorer's ChartPane with the bundled vega-embed (no CDN). Tooltips and the spec's own selections
// work as in any vega view.
import { ChartPane, followTheme } from "./chart.js";

/** Draw `model.get("spec")` into `el`; redraw when the spec changes. Returns the cleanup function. */
export function renderChart({ model, el }) {
  const box = document.createElement("div");
  box.className = "nbc-chart-only";
  el.replaceChildren(box);
  const stopTheme = followTheme(box);
  let revision = 0;
  const pane = new ChartPane(box, {
    onLayerClick: () => {},
    onRendered: () => {
      box.dataset.rendered = String(revision);
    },
    onError: (text) => {
      const message = document.createElement("div");
      message.className = "nbc-error";
      message.setAttribute("role", "alert");
      message.textContent = text;
      box.replaceChildren(message);
    },
  });
  const draw = () => pane.show(model.get("spec"), ++revision, {});
  const describe = () => pane.describe(model.get("description") ?? "");

  model.on("change:spec", draw);
  model.on("change:description", describe);
  describe();
  draw(); // the model holds every spec Python set since the comm opened: no state to ask for
  return () => {
    model.off("change:spec", draw);
    model.off("change:description", describe);
    pane.generation += 1; // a draw still embedding is discarded
    stopTheme();
    pane.close();
  };
}
