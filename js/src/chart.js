// The chart pane: embeds Vega-Lite specs made in Python, keeps only the newest, exports images.
import embed from "vega-embed";

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
    title: { color: text },
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
    this.generation = 0;
  }

  /** Render `spec`; a render superseded by a newer call before it finishes is discarded. */
  async show(spec, revision, { clickable }) {
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
    this.container.replaceChildren(target);
    this.container.dataset.revision = String(revision);
    this.onRendered(revision);
    return true;
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
