// The chart pane: embeds Vega-Lite specs made in Python, keeps only the newest, and updates the drawn view in
// place when only its data or its highlighted layers change (no re-embed). It never computes statistics.
import embed from "vega-embed";

/** The heatmap's click selection (charts.LAYER_SELECTION); the page writes its store to highlight layers. */
export const SELECTION = "layer_pick";

/**
 * The host's colours, in the order hosts define them: JupyterLab (`--jp-*`), marimo (`--background`,
 * `--foreground`, given as colours or as shadcn-style HSL components), VS Code (`--vscode-*`), then the CSS
 * system colours `Canvas` / `CanvasText` (which follow `color-scheme: light dark`).
 */
const HOST_COLOURS = {
  fg: [["--jp-ui-font-color1", "--foreground", "--vscode-editor-foreground"], "CanvasText"],
  muted: [["--jp-ui-font-color2", "--muted-foreground", "--vscode-descriptionForeground"], "GrayText"],
  bg: [["--jp-layout-color0", "--background", "--vscode-editor-background"], "Canvas"],
  bg2: [["--jp-layout-color2", "--muted", "--vscode-editorWidget-background"], "ButtonFace"],
  border: [["--jp-border-color1", "--border", "--vscode-panel-border"], "GrayText"],
  grid: [["--jp-border-color2", "--border", "--vscode-panel-border"], "GrayText"],
  accent: [["--jp-brand-color1", "--primary", "--vscode-focusBorder"], "Highlight"],
  font: [["--jp-ui-font-family", "--marimo-text-font", "--vscode-font-family"], "system-ui, sans-serif"],
};

/** `value` as a CSS colour, or null: a colour as is, or HSL components ("0 0% 100%") as hsl(...). */
function asColour(value) {
  if (!value) return null;
  if (CSS.supports("color", value)) return value;
  if (CSS.supports("color", `hsl(${value})`)) return `hsl(${value})`;
  return null;
}

/** A CSS colour resolved by the browser (rgb()/rgba()), in the context of `el`. */
function resolved(el, colour) {
  const probe = document.createElement("span");
  probe.style.color = colour;
  probe.style.display = "none";
  el.append(probe);
  const value = getComputedStyle(probe).color;
  probe.remove();
  return value;
}

/** The host's palette as seen from `el`: {fg, muted, bg, bg2, border, grid, accent, font}, resolved. */
export function hostPalette(el) {
  const css = getComputedStyle(el);
  const palette = {};
  for (const [key, [names, fallback]] of Object.entries(HOST_COLOURS)) {
    const values = names.map((name) => css.getPropertyValue(name).trim());
    if (key === "font") {
      palette.font = values.find(Boolean) || fallback;
      continue;
    }
    palette[key] = resolved(el, values.map(asColour).find(Boolean) ?? fallback);
  }
  return palette;
}

/** Set the palette as the `--nbc-*` variables of `root` (the controls' CSS reads them). */
export function applyPalette(root, palette) {
  for (const [key, value] of Object.entries(palette)) root.style.setProperty(`--nbc-${key}`, value);
}

/** Keep `root`'s `--nbc-*` colours on the host's theme (now and after each change). Returns the stop function. */
export function followTheme(root) {
  const apply = () => {
    if (!root.isConnected) return;
    for (const key of Object.keys(HOST_COLOURS)) root.style.removeProperty(`--nbc-${key}`); // read the host's, not ours
    applyPalette(root, hostPalette(root));
  };
  queueMicrotask(apply);
  requestAnimationFrame?.(apply); // once attached to the page
  return onThemeChange(apply);
}

/** Vega config that follows the host theme (see hostPalette), transparent background. */
export function themeConfig(el, palette = hostPalette(el)) {
  const { fg: text, muted, grid, font } = palette;
  return {
    background: "transparent",
    font,
    title: { color: text, subtitleColor: muted },
    axis: { labelColor: text, titleColor: text, domainColor: muted, tickColor: muted, gridColor: grid },
    legend: { labelColor: text, titleColor: text },
    header: { labelColor: text, titleColor: text },
    view: { stroke: grid },
    text: { color: text },
  };
}

const themeWatchers = new Set();
let themeObserved = false;

/** Call `callback` when the host's theme may have changed (theme attributes, style sheets, OS preference);
 * again shortly after, since a host's new style sheet may load after it flips its attributes. Returns the
 * function that stops watching. */
export function onThemeChange(callback) {
  themeWatchers.add(callback);
  if (!themeObserved) {
    themeObserved = true;
    let timers = [];
    const notify = () => {
      for (const timer of timers) clearTimeout(timer);
      timers = [0, 150, 600, 1500, 3000].map((wait) => setTimeout(() => themeWatchers.forEach((watcher) => watcher()), wait));
    };
    const observer = new MutationObserver(notify);
    const attributes = ["class", "style", "data-theme", "data-jp-theme-light", "data-jp-theme-name", "data-vscode-theme-kind"];
    observer.observe(document.documentElement, { attributes: true, attributeFilter: attributes });
    if (document.body) observer.observe(document.body, { attributes: true, attributeFilter: attributes });
    if (document.head) observer.observe(document.head, { childList: true });
    globalThis.matchMedia?.("(prefers-color-scheme: dark)").addEventListener?.("change", notify);
  }
  return () => themeWatchers.delete(callback);
}

/** Extra room beside a chart's plot for its axes and legend when it is fitted to its container. */
const FIT_ALLOWANCE = 240;
/** Room a chart of a figure needs beside its plot (y axis, legend), and the narrowest plot worth drawing. */
const PART_ALLOWANCE = 190;
const PART_MIN = 120;
/** A figure takes fewer columns rather than draw its charts narrower than this. */
const PART_WRAP = 240;

/**
 * A spec made to fit a container `available` px wide. A single view (a unit or layer chart with a numeric
 * width) gets Vega-Lite's `width: "container"` with autosize fit-x, at most its own width plus room for axes
 * and legend, and titles limited to the width. A figure of several charts (hconcat, or concat/facet with
 * `columns`) keeps its charts' own widths where they fit and otherwise narrows them, down to one column.
 * Returns [spec, maxWidth of a single view or null].
 */
export function fitted(spec, available, extra = 0) {
  const compound = ["hconcat", "vconcat", "concat", "facet", "repeat"].some((key) => key in spec);
  if (compound) return [fittedFigure(spec, available, extra), null];
  if (typeof spec.width !== "number") return [spec, null];
  const title = asTitle(spec.title);
  const out = { ...spec, width: "container", autosize: { type: "fit-x", contains: "padding" } };
  if (title) out.title = { ...title, limit: { expr: "max(120, containerSize()[0] - 16)" } };
  return [out, spec.width + FIT_ALLOWANCE];
}

/** A spec's title as an object (Vega-Lite accepts a string, a list of lines, or an object), or null. */
function asTitle(title) {
  if (!title) return null;
  return typeof title === "object" && !Array.isArray(title) ? title : { text: title };
}

function fittedFigure(spec, available, extra) {
  if (!available) return spec;
  const wrap = (parts, columns) => {
    let n = Math.max(1, columns);
    const widest = Math.max(...parts.map((part) => (typeof part.width === "number" ? part.width : 0)));
    if (!widest) return { parts, n };
    while (n > 1 && available / n - PART_ALLOWANCE - extra < Math.min(PART_WRAP, widest)) n -= 1;
    const room = Math.max(PART_MIN, Math.floor(available / n - PART_ALLOWANCE - extra / n));
    const fit = (part) => {
      const out = typeof part.width === "number" && part.width > room ? { ...part, width: room } : { ...part };
      const title = asTitle(part.title);
      if (title) out.title = { ...title, limit: Math.floor(available / n) - 24 }; // an ellipsis, never clipped
      return out;
    };
    return { parts: parts.map(fit), n };
  };
  if (spec.hconcat) {
    const { parts, n } = wrap(spec.hconcat, spec.hconcat.length);
    const { hconcat, ...rest } = spec;
    return n === hconcat.length ? { ...rest, hconcat: parts } : { ...rest, concat: parts, columns: n };
  }
  if (spec.concat) {
    const { parts, n } = wrap(spec.concat, spec.columns ?? spec.concat.length);
    return { ...spec, concat: parts, columns: n };
  }
  if (spec.facet && spec.spec && !spec.facet.row) {
    // a wrapped facet; a facet in columns only (`facet(column=...)`) becomes one, so that it can wrap too
    const column = spec.facet.column;
    if (column && spec.facet.field === undefined && Object.keys(spec.facet).length === 1) {
      const { parts, n } = wrap([spec.spec], 64);
      return { ...spec, facet: column, spec: parts[0], columns: n };
    }
    if (column) return spec;
    const { parts, n } = wrap([spec.spec], spec.columns ?? 1);
    return { ...spec, spec: parts[0], columns: n };
  }
  return spec;
}

/** Whether a spec (or any chart inside it) draws rect marks: heatmaps and the token strip, thousands of them. */
function drawsRects(spec) {
  if (!spec || typeof spec !== "object") return false;
  const mark = spec.mark?.type ?? spec.mark;
  if (mark === "rect") return true;
  return ["layer", "hconcat", "vconcat", "concat"].some((key) => (spec[key] ?? []).some(drawsRects)) || drawsRects(spec.spec);
}

/** The renderer for a spec: a canvas for charts of many rects (heatmaps, tokens: faster redraws), else SVG;
 * `usermeta.renderer` in the spec, or `globalThis.nbcRenderer` ("svg" or "canvas", for benchmarks) decide
 * instead. SVG export stays either way (`view.toSVG()`). */
export function rendererFor(spec) {
  const forced = globalThis.nbcRenderer ?? spec?.usermeta?.renderer;
  if (forced === "svg" || forced === "canvas") return forced;
  return drawsRects(spec) ? "canvas" : "svg";
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
    try {
      if (view.signal("width") === width) return;
      view.signal("width", width).resize().runAsync();
    } catch {
      // a chart without a width signal
    }
  }

  /** Embed `spec` (Python's revision `revision`); a render superseded before it finishes is discarded. */
  async show(spec, revision, { clickable, layers }, kind = "embed") {
    const generation = ++this.generation;
    const target = document.createElement("div");
    target.className = "nbc-vega";
    const available = this.container.clientWidth;
    const [drawnSpec, maxWidth] = fitted(spec, available, 0);
    if (maxWidth) target.style.maxWidth = `${maxWidth}px`;
    // measured in place: a container width exists before the embed (Vega-Lite reads it once)
    target.style.visibility = "hidden";
    target.style.position = "absolute";
    target.style.width = `${Math.min(maxWidth ?? Infinity, this.container.clientWidth || maxWidth || 420)}px`;
    this.container.append(target);
    const palette = hostPalette(this.container);
    let result;
    const options = { actions: false, renderer: rendererFor(spec), config: themeConfig(this.container, palette),
      tooltip: { theme: "custom" } };
    try {
      result = await embed(target, drawnSpec, options);
      this.container.vegaSpec = drawnSpec; // for tests and the curious: the spec as drawn (fitted)
      // a figure of several charts whose axes and legends turned out wider than allowed: narrow it once more
      const drawnWidth = maxWidth ? 0 : target.firstElementChild?.getBoundingClientRect().width ?? 0;
      if (available && drawnWidth > available + 1 && generation === this.generation) {
        result.finalize();
        target.replaceChildren();
        const narrower = fitted(spec, available, Math.ceil(drawnWidth - available) + 4)[0];
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
    view.data(`${SELECTION}_store`, layers.map((layer) => ({ unit, fields, values: [layer] })));
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
