// The chart pane: embeds Vega-Lite specs made in Python, keeps only the newest, and updates the drawn view in
// place when only its data or its highlighted layers change (no re-embed). It never computes statistics.
import embed from "vega-embed";
import { fitted, rendererFor } from "./fit.js";
import params from "../../nb_condense/charts/params.json" with { type: "json" };
import { hostPalette, onBackground, onThemeChange, themeConfig } from "./theme.js";

export { followTheme } from "./theme.js";

/** The heatmap's click selection (charts.LAYER_SELECTION, from charts/params.json); the page writes its store to
 * highlight layers. */
export const SELECTION = params.layerSelection;

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
    this.drawn = null; // {spec, revision, options}: what to re-embed when the theme changes
    this.datasets = {}; // rows swapped into the drawn view since its embed (replayed after a restyle)
    this.params = {};
    this.layers = null;
    this.palette = "";
    this.stopWatching = onThemeChange(() => this.restyle());
    this.resizer = globalThis.ResizeObserver ? new ResizeObserver(() => this.fit()) : null;
    this.resizer?.observe(container);
  }

  /** Re-embed the drawn chart with the host's new colours (no kernel round trip), if they changed, or
   * (`force`) to lay a figure of several charts out for a new width. */
  async restyle(force = false) {
    if (!this.drawn || !this.container.isConnected) return false;
    if (!force && JSON.stringify(hostPalette(this.container)) === this.palette) return false;
    const { spec, revision, options } = this.drawn;
    const replay = { datasets: this.datasets, params: this.params, layers: this.layers };
    const shown = await this.show(spec, revision, { ...options, layers: replay.layers }, "theme");
    if (!shown) return false;
    const view = this.view?.view;
    for (const [name, rows] of Object.entries(replay.datasets)) view.data(name, rows);
    for (const [name, value] of Object.entries(replay.params)) {
      try {
        view.signal(name, value);
      } catch {
        // not a param of this chart
      }
    }
    this.datasets = replay.datasets;
    this.params = replay.params;
    await view.resize().runAsync();
    this.rendered("theme");
    return true;
  }

  /** Follow the container's width (Vega-Lite's "container" width only listens to the window). */
  fit() {
    const view = this.view?.view;
    if (!view) return;
    if (!this.fits) {
      // a figure of several charts: laid out again (re-embedded) when its container's width changed much
      const width = this.container.clientWidth;
      if (width && Math.abs(width - (this.fittedTo ?? width)) > 40) {
        this.fittedTo = width;
        clearTimeout(this.refit);
        this.refit = setTimeout(() => this.restyle(true), 100);
      }
      return;
    }
    const width = this.container.firstElementChild?.clientWidth;
    if (!width) return;
    if (this.captionChanged()) {
      // the caption wraps into other lines at this width: drawn again (Vega-Lite cannot wrap it by itself)
      clearTimeout(this.refit);
      this.refit = setTimeout(() => this.restyle(true), 100);
      return;
    }
    try {
      if (view.signal("width") === width) return;
      view.signal("width", width).resize().runAsync();
    } catch {
      // a chart without a width signal
    }
  }

  /** Whether the drawn single view's caption would wrap into other lines at the container's present width. */
  captionChanged() {
    const drawn = this.container.vegaSpec?.title?.subtitle;
    if (!this.drawn || drawn === undefined) return false;
    const font = JSON.parse(this.palette || "{}").font;
    const now = fitted(this.drawn.spec, this.container.clientWidth, 0, font)[0].title?.subtitle;
    return JSON.stringify(now) !== JSON.stringify(drawn);
  }

  /**
   * Embed `spec` (Python's revision `revision`); a render superseded before it finishes is discarded.
   * @param {import("vega-embed").VisualizationSpec} spec The Vega-Lite spec, as Python made it.
   * @param {number} revision Python's revision of it.
   * @param {{clickable?: boolean, layers?: number[] | null}} options Whether a click on a layer calls
   *   `onLayerClick`, and the layers to highlight once drawn (none when absent).
   * @param {"embed" | "theme"} [kind] Why it is drawn: a new spec, or the host's new colours.
   * @returns {Promise<boolean>} Whether it was drawn (false: failed, or superseded by a newer draw).
   */
  async show(spec, revision, { clickable, layers }, kind = "embed") {
    const generation = ++this.generation;
    const target = document.createElement("div");
    target.className = "nbc-vega";
    const available = this.container.clientWidth;
    const palette = hostPalette(this.container);
    const themed = onBackground(spec, palette.bg); // the colour ramps' light or dark stops (chosen in the spec)
    const [drawnSpec, maxWidth] = fitted(themed, available, 0, palette.font);
    if (maxWidth) target.style.maxWidth = `${maxWidth}px`;
    // measured in place: a container width exists before the embed (Vega-Lite reads it once)
    target.style.visibility = "hidden";
    target.style.position = "absolute";
    target.style.width = `${Math.min(maxWidth ?? Infinity, this.container.clientWidth || maxWidth || 420)}px`;
    this.container.append(target);
    let result;
    const options = {
      actions: false,
      renderer: rendererFor(spec),
      config: themeConfig(this.container, palette),
      tooltip: { theme: "custom" },
    };
    try {
      result = await embed(target, drawnSpec, options);
      this.container.vegaSpec = drawnSpec; // for tests and the curious: the spec as drawn (fitted)
      // a figure of several charts whose axes and legends turned out wider than allowed: narrow it once more
      const drawnWidth = maxWidth ? 0 : (target.firstElementChild?.getBoundingClientRect().width ?? 0);
      if (available && drawnWidth > available + 1 && generation === this.generation) {
        result.finalize();
        target.replaceChildren();
        const narrower = fitted(themed, available, Math.ceil(drawnWidth - available) + 4, palette.font)[0];
        result = await embed(target, narrower, options);
        this.container.vegaSpec = narrower;
      }
    } catch (error) {
      target.remove();
      if (generation === this.generation) this.onError(`Could not draw the chart: ${error.message ?? error}`);
      return false;
    }
    if (generation !== this.generation) {
      result.finalize();
      target.remove();
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
    this.fits = Boolean(maxWidth);
    this.fittedTo = available;
    this.palette = JSON.stringify(palette);
    this.drawn = { spec, revision, options: { clickable } };
    this.datasets = {};
    this.params = {};
    this.container.vegaView = result.view; // for tests and the curious: the drawn Vega view
    this.revision = revision;
    target.style.visibility = "";
    target.style.position = "";
    target.style.width = "";
    this.container.replaceChildren(target);
    this.container.dataset.revision = String(revision);
    this.container.dataset.embeds = String(++this.embeds);
    this.container.dataset.renderer = rendererFor(spec);
    if (maxWidth) await result.view.resize().runAsync();
    this.fit();
    if (layers) await this.highlight(layers, false);
    if (kind === "embed") this.rendered("embed");
    return true;
  }

  /** Highlight `layers` in a heatmap by writing its selection store (nothing to do in other charts). */
  async highlight(layers, notify = true) {
    const view = this.view?.view;
    if (!view) return false;
    this.layers = layers;
    let fields;
    try {
      fields = view.signal(`${SELECTION}_tuple_fields`);
    } catch {
      return false; // this chart has no layer selection
    }
    const unit = view.data(`${SELECTION}_store`)[0]?.unit ?? "";
    view.data(
      `${SELECTION}_store`,
      layers.map((layer) => ({ unit, fields, values: [layer] })),
    );
    await view.runAsync();
    if (notify) this.rendered("highlight");
    return true;
  }

  /** Replace the rows of the named dataset `name` of the drawn chart (Python sent them as a JSON string). */
  async setData(name, rows) {
    const view = this.view?.view;
    if (!view) return false;
    this.datasets[name] = rows;
    view.data(name, rows);
    await view.resize().runAsync(); // new rows may need new axis room: lay the chart out again
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
      this.params[name] = value;
      changed = true;
    }
    if (!changed) return false;
    await view.resize().runAsync();
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

  /** Stop following the theme and the container's size (the pane is gone). */
  close() {
    this.stopWatching();
    this.resizer?.disconnect();
    this.finalize();
  }
}
