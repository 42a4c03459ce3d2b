// The chart pane: embeds Vega-Lite specs made in Python, keeps only the newest, and updates the drawn view in
// place when only its data or its highlighted layers change (no re-embed). It never computes statistics.
import embed from "vega-embed";
import { PROTOCOL } from "./protocol.js";

/** The heatmap's click selection (charts.LAYER_SELECTION); the page writes its store to highlight layers. */
export const SELECTION = PROTOCOL.layerSelection;

/** Vega config that follows the notebook theme (JupyterLab CSS variables), transparent background. */
export function themeConfig(el) {
  const css = getComputedStyle(el);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const text = v("--jp-ui-font-color1", "#333");
  const muted = v("--jp-ui-font-color2", "#666");
  const grid = v("--jp-border-color2", "#ddd");
  const font = v("--jp-ui-font-family", "sans-serif");
  return {
    background: "transparent",
    font,
    title: { color: text, subtitleColor: muted },
    axis: { labelColor: muted, titleColor: text, domainColor: muted, tickColor: muted, gridColor: grid },
    legend: { labelColor: muted, titleColor: text },
    header: { labelColor: muted, titleColor: text },
    view: { stroke: grid },
  };
}

export class ChartPane {
  constructor(container, { onLayerClick, onRendered, onError }) {
    this.container = container;
    this.onLayerClick = onLayerClick;
    this.onRendered = onRendered;
    this.onError = onError;
    this.view = null;
    this.revision = null;
    this.generation = 0;
    this.embeds = 0;
    this.updates = 0;
  }

  /** Embed `spec` (Python's revision `revision`); a render superseded before it finishes is discarded. */
  async show(spec, revision, { clickable, layers }) {
    const generation = ++this.generation;
    const target = document.createElement("div");
    let result;
    try {
      result = await embed(target, spec, {
        actions: false,
        renderer: "svg",
        config: themeConfig(this.container),
        tooltip: { theme: "custom" },
      });
    } catch (error) {
      if (generation === this.generation) this.onError(`Could not draw the chart: ${error.message ?? error}`);
      return false;
    }
    if (generation !== this.generation) {
      result.finalize();
      return false;
    }
    if (clickable) {
      result.view.addEventListener("click", (event, item) => {
        const layer = item?.datum?.layer;
        if (Number.isInteger(layer)) this.onLayerClick(layer, event.shiftKey || event.ctrlKey || event.metaKey);
      });
    }
    this.finalize();
    this.view = result;
    this.container.vegaView = result.view; // for tests and the curious: the drawn Vega view
    this.revision = revision;
    this.container.replaceChildren(target);
    this.container.dataset.revision = String(revision);
    this.container.dataset.embeds = String(++this.embeds);
    if (layers) await this.highlight(layers, false);
    this.rendered("embed");
    return true;
  }

  /** Highlight `layers` in a heatmap by writing its selection store (nothing to do in other charts). */
  async highlight(layers, notify = true) {
    const view = this.view?.view;
    if (!view) return false;
    let fields;
    try {
      fields = view.signal(`${SELECTION}_tuple_fields`);
    } catch {
      return false; // this chart has no layer selection
    }
    const unit = view.data(`${SELECTION}_store`)[0]?.unit ?? "";
    view.data(`${SELECTION}_store`, layers.map((layer) => ({ unit, fields, values: [layer] })));
    await view.runAsync();
    if (notify) this.rendered("highlight");
    return true;
  }

  /** Replace the rows of the named dataset `name` of the drawn chart (Python sent them as a JSON string). */
  async setData(name, rows) {
    const view = this.view?.view;
    if (!view) return false;
    view.data(name, rows);
    await view.runAsync();
    this.rendered("data");
    return true;
  }

  /** Set the values of the drawn chart's params that it declares (others are ignored). */
  async setParams(params) {
    const view = this.view?.view;
    if (!view) return false;
    let changed = false;
    for (const [name, value] of Object.entries(params)) {
      let current;
      try {
        current = view.signal(name);
      } catch {
        continue; // not a param of this chart
      }
      if (JSON.stringify(current) === JSON.stringify(value)) continue;
      view.signal(name, value);
      changed = true;
    }
    if (!changed) return false;
    await view.runAsync();
    this.rendered("params");
    return true;
  }

  rendered(kind) {
    this.container.dataset.updates = String(++this.updates);
    this.onRendered({ revision: this.revision, kind, update: this.updates });
  }

  async image(format) {
    if (!this.view) throw new Error("No chart is shown yet.");
    return format === "svg" ? this.view.view.toSVG() : this.view.view.toImageURL("png", 2);
  }

  finalize() {
    if (this.view) this.view.finalize();
    this.view = null;
  }
}
