// Chart-only mode of the bundle (ChartWidget, the offline notebook renderer): one Vega-Lite spec made in Python,
// drawn with the bundled vega-embed (no CDN). Tooltips and the spec's own selections work as in any vega view.
import embed from "vega-embed";
import { themeConfig } from "./chart.js";

/** Draw `model.get("spec")` into `el`; redraw when the spec changes. Returns the cleanup function. */
export function renderChart({ model, el }) {
  const box = document.createElement("div");
  box.className = "nbc-chart-only";
  el.replaceChildren(box);
  let result = null;
  let generation = 0;

  async function draw() {
    const mine = ++generation;
    const target = document.createElement("div");
    let embedded;
    try {
      embedded = await embed(target, model.get("spec"), {
        actions: false,
        renderer: "svg",
        config: themeConfig(el),
        tooltip: { theme: "custom" },
      });
    } catch (error) {
      if (mine !== generation) return;
      const message = document.createElement("div");
      message.className = "nbc-error";
      message.setAttribute("role", "alert");
      message.textContent = `Could not draw the chart: ${error.message ?? error}`;
      box.replaceChildren(message);
      return;
    }
    if (mine !== generation) {
      embedded.finalize();
      return;
    }
    result?.finalize();
    result = embedded;
    box.replaceChildren(target);
    box.dataset.rendered = String(mine);
  }

  model.on("change:spec", draw);
  draw();
  return () => {
    generation += 1;
    model.off("change:spec", draw);
    result?.finalize();
  };
}
