// Charts that take the space they are given: single views fit their container's width, figures of several
// charts wrap and narrow; and the renderer each spec gets (a canvas for many rects).

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
