// The chart pane: embeds Vega-Lite specs made in Python, keeps only the newest, and updates the drawn view in
// place when only its data or its highlighted layers change (no re-embed). It never computes statistics.
import embed from "vega-embed";
import { fitted, rendererFor } from "./fit.js";
import { flowRules, flowTokens } from "./flow.js";
import params from "../../nb_condense/charts/params.json" with { type: "json" };
import { hostPalette, onBackground, onThemeChange, themeConfig } from "./theme.js";

export { followTheme } from "./theme.js";

/** The heatmap's click selection (charts.LAYER_SELECTION, from charts/params.json); the page writes its store to
 * highlight layers. */
export const SELECTION = params.layerSelection;

/** The Vega param that holds a chart's live title (charts/params.json). */
const TITLE = params.title;

/** A chart's title as one line: the live title param if it has one, else the spec's title text. */
function titleOf(view, spec) {
  try {
    const live = view.signal(TITLE);
    if (live) return String(live);
  } catch {
    // no live title
  }
  const title = spec?.title;
  const text = typeof title === "string" || Array.isArray(title) ? title : title?.text;
  return [text ?? []].flat().join(" ").trim() || "Chart";
}

let described = 0; // ids of description elements

export class ChartPane {
  /**
   * @param {any} container Where the chart is drawn (an HTMLElement).
   * @param {{onLayerClick: (layer: number, additive: boolean) => void, onRendered: (detail: any) => void,
   *   onError: (message: string) => void, onAnnounce?: (text: string) => void,
   *   columnNumbers?: (layer: number) => string}} callbacks What a click on a layer, a finished draw, a failure
   *   and a keyboard move (what to say) call; `columnNumbers` gives the numbers said with a focused layer column
   *   (the data table's row of that layer: what the column's tooltips show).
   */
  constructor(
    container,
    { onLayerClick, onRendered, onError, onAnnounce = (_text) => {}, columnNumbers = (_layer) => "" },
  ) {
    this.container = container;
    this.onLayerClick = onLayerClick;
    this.onAnnounce = onAnnounce;
    this.columnNumbers = columnNumbers;
    // the text alternative's slot: a visually hidden description (Python's generated summary), referenced by the
    // drawn chart's aria-describedby once it is not empty
    this.description = document.createElement("p");
    this.description.className = "nbc-description nbc-sr-only";
    this.description.id = `nbc-description-${++described}`;
    this.columns = []; // the heatmap's layer columns, in order (keyboard navigation)
    this.column = -1; // the index of the column focused by the keyboard
    this.onKey = (event) => this.key(event);
    container.addEventListener("keydown", this.onKey);
    container.addEventListener("blur", () => this.showColumn(-1, false));
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
    await this.reflow();
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
    this.reflow();
  }

  /** The name of the one dataset the drawn spec reads, if it names one. */
  datasetName() {
    const spec = /** @type {any} */ (this.drawn?.spec);
    return spec?.data?.name;
  }

  /**
   * A token strip's cells laid out again for the drawn width (js/src/flow.js: whole words, wrapping like text),
   * from `rows` (new rows of its dataset) or the rows it draws; its height follows the shown text's lines.
   * Nothing to do for other charts.
   */
  async reflow(rows = null) {
    const rules = flowRules(this.drawn?.spec);
    const view = this.view?.view;
    const name = this.datasetName();
    if (!rules || !view || !name) return false;
    const source = rows ?? view.data(name);
    const width = Math.max(1, Math.floor(view.width()));
    const flowed = flowTokens(source, width, rules);
    /** @type {any} */
    let text = 0;
    try {
      text = view.signal("sample"); // the page's chosen text (its rows hold every text's tokens)
    } catch {
      // one text's rows
    }
    view.data(name, flowed.rows);
    view.height(flowed.heights.get(text) ?? flowed.heights.get(0) ?? rules.rowHeight);
    this.container.dataset.flowWidth = String(width);
    await view.resize().runAsync();
    return true;
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
    // a token strip takes the whole width (its cells wrap to it); other single views stop at their own width
    if (maxWidth && !flowRules(spec)) target.style.maxWidth = `${maxWidth}px`;
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
    this.container.replaceChildren(target, this.description);
    target.setAttribute("role", "img");
    this.name();
    this.describe(this.description.textContent ?? "");
    this.clickable = Boolean(clickable);
    this.column = -1;
    this.container.dataset.revision = String(revision);
    this.container.dataset.embeds = String(++this.embeds);
    this.container.dataset.renderer = rendererFor(spec);
    if (maxWidth) await result.view.resize().runAsync();
    this.fit();
    await this.reflow();
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
    if (!(name === this.datasetName() && (await this.reflow(rows)))) {
      view.data(name, rows);
      await view.resize().runAsync(); // new rows may need new axis room: lay the chart out again
    }
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
    if (!(await this.reflow())) await view.resize().runAsync(); // a token strip: the chosen text's height
    this.name();
    this.rendered("params");
    return true;
  }

  /** Name the drawn chart (role img) by its title. */
  name() {
    const target = this.container.querySelector(".nbc-vega");
    if (target && this.view) target.setAttribute("aria-label", titleOf(this.view.view, this.drawn?.spec));
  }

  /** Set the chart's text description (`""`: none; the chart is then described by its name alone). */
  describe(text) {
    this.description.textContent = text;
    const target = this.container.querySelector(".nbc-vega");
    if (!target) return;
    if (text) target.setAttribute("aria-describedby", this.description.id);
    else target.removeAttribute("aria-describedby");
  }

  /** Keys on a clickable heatmap: arrows, Home and End move between layer columns, Enter picks one. */
  key(event) {
    if (!this.clickable || !this.view || !this.columns.length) return;
    const last = this.columns.length - 1;
    const at = this.column < 0 ? -1 : this.column;
    const moves = {
      ArrowRight: Math.min(at + 1, last),
      ArrowDown: Math.min(at + 1, last),
      ArrowLeft: Math.max(at - 1, 0),
      ArrowUp: Math.max(at - 1, 0),
      Home: 0,
      End: last,
    };
    if (event.key in moves) {
      event.preventDefault();
      this.showColumn(moves[event.key], true);
    } else if ((event.key === "Enter" || event.key === " ") && this.column >= 0) {
      event.preventDefault();
      // the click handler's path: the same callback a click on the column calls
      this.onLayerClick(this.columns[this.column], event.shiftKey || event.ctrlKey || event.metaKey);
    }
  }

  /** Outline layer column `index` (-1: none) and, when `announce`, say which it is. */
  showColumn(index, announce) {
    this.column = index;
    const target = this.container.querySelector(".nbc-vega");
    /** @type {any} */
    let box = target?.querySelector(".nbc-column-focus");
    if (index < 0 || !target) {
      box?.remove();
      return;
    }
    const layer = this.columns[index];
    const bounds = columnBounds(this.view.view, layer);
    if (!box) {
      box = document.createElement("div");
      box.className = "nbc-column-focus";
      box.setAttribute("aria-hidden", "true");
      target.append(box);
    }
    /** @type {any} */
    const canvas = target.querySelector("canvas, svg");
    const offset = canvas ? canvas.offsetLeft : 0;
    if (bounds) {
      box.style.left = `${offset + bounds.x1 - 2}px`;
      box.style.top = `${(canvas ? canvas.offsetTop : 0) + bounds.y1 - 2}px`;
      box.style.width = `${bounds.x2 - bounds.x1 + 4}px`;
      box.style.height = `${bounds.y2 - bounds.y1 + 4}px`;
    }
    this.container.dataset.column = String(layer);
    if (announce) {
      const numbers = this.columnNumbers(layer);
      this.onAnnounce(
        `Layer ${layer}, column ${index + 1} of ${this.columns.length}${numbers ? `: ${numbers}` : ""}. ` +
          "Enter picks it, Shift+Enter adds it.",
      );
    }
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
    this.container.removeEventListener("keydown", this.onKey);
    this.stopWatching();
    this.resizer?.disconnect();
    this.finalize();
  }
}

/** The box (in the view's canvas pixels) of the marks of a Vega view whose datum's `layer` is `layer`. */
function columnBounds(view, layer) {
  const [ox, oy] = view.origin();
  let out = null;
  const visit = (node, x, y) => {
    if (!node) return;
    for (const item of node.items ?? []) {
      const ix = x + (item.mark?.marktype === "group" ? (item.x ?? 0) : 0);
      const iy = y + (item.mark?.marktype === "group" ? (item.y ?? 0) : 0);
      if (item.mark?.marktype === "rect" && item.datum?.layer === layer && item.bounds) {
        const b = item.bounds;
        out = out ?? { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
        out.x1 = Math.min(out.x1, x + b.x1);
        out.y1 = Math.min(out.y1, y + b.y1);
        out.x2 = Math.max(out.x2, x + b.x2);
        out.y2 = Math.max(out.y2, y + b.y2);
      }
      visit(item, ix, iy);
    }
  };
  visit(view.scenegraph().root, ox, oy);
  return out;
}
