// Charts that take the space they are given: single views fit their container's width, figures of several
// charts wrap and narrow; and the renderer each spec gets (a canvas for many rects).

/** Extra room beside a chart's plot for its axes and legend when it is fitted to its container. */
const FIT_ALLOWANCE = 240;
/** Room a chart of a figure needs beside its plot (y axis, legend), and the narrowest plot worth drawing. */
const PART_ALLOWANCE = 190;
const PART_MIN = 120;
/** A figure takes fewer columns rather than draw its charts narrower than this. */
const PART_WRAP = 240;

/** Vega's default subtitle font size, px (its "group-subtitle" style). */
const SUBTITLE_PX = 12;
let measuring;

/** Width in px of `text` in the italic `font` (a CSS font family) of `fontSize` px, measured on a canvas with
 * 5 % to spare; 0.6 em a character where there is no canvas to measure with. */
function textWidth(text, fontSize, font = "system-ui, sans-serif") {
  measuring ??= globalThis.document?.createElement("canvas").getContext("2d") ?? false;
  if (!measuring) return text.length * fontSize * 0.6;
  measuring.font = `italic ${fontSize}px ${font}`;
  return measuring.measureText(text).width * 1.05;
}

/**
 * `text` broken at spaces into lines at most `room` px wide, as Vega's list of lines; the text itself when it
 * fits on one line. A word wider than `room` keeps a line of its own (Vega's limit then shortens it).
 */
export function wrapText(text, room, fontSize = SUBTITLE_PX, width = textWidth) {
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const longer = line ? `${line} ${word}` : word;
    if (!line || width(longer, fontSize) <= room) line = longer;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines.length > 1 ? lines : text;
}

/** `title` limited to `limit` (a number or a Vega expression), its caption (subtitle) wrapped to `room` px of
 * the chart's `font`. */
function roomFor(title, limit, room, font) {
  const out = { ...title, limit };
  if (typeof title.subtitle === "string" && room > 0) {
    const width = (text, size) => textWidth(text, size, title.subtitleFont ?? font);
    out.subtitle = wrapText(title.subtitle, room, title.subtitleFontSize ?? SUBTITLE_PX, width);
  }
  return out;
}

/**
 * A spec made to fit a container `available` px wide. A single view (a unit or layer chart with a numeric
 * width) gets Vega-Lite's `width: "container"` with autosize fit-x, at most its own width plus room for axes
 * and legend, titles limited to the width and captions wrapped to it. A figure of several charts (hconcat, or concat/facet with
 * `columns`) keeps its charts' own widths where they fit and otherwise narrows them, down to one column.
 * Captions are measured in `font` (the host's, which the chart is drawn in). Returns [spec, maxWidth of a single
 * view or null].
 */
export function fitted(spec, available, extra = 0, font = undefined) {
  const compound = ["hconcat", "vconcat", "concat", "facet", "repeat"].some((key) => key in spec);
  if (compound) return [fittedFigure(spec, available, extra, font), null];
  if (typeof spec.width !== "number") return [spec, null];
  const title = asTitle(spec.title);
  const out = { ...spec, width: "container", autosize: { type: "fit-x", contains: "padding" } };
  const widest = spec.width + FIT_ALLOWANCE;
  // the title's limit is the drawn view's width less 16 px; the view sits in the container's padding (8 px)
  const room = Math.max(120, Math.min(available || widest, widest) - 24);
  if (title) out.title = roomFor(title, { expr: "max(120, containerSize()[0] - 16)" }, room, font);
  return [out, widest];
}

/** A spec's title as an object (Vega-Lite accepts a string, a list of lines, or an object), or null. */
function asTitle(title) {
  if (!title) return null;
  return typeof title === "object" && !Array.isArray(title) ? title : { text: title };
}

function fittedFigure(spec, available, extra, font) {
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
      // the caption wraps to the room; a title longer than it ends in an ellipsis, never clipped
      const share = Math.floor(available / n) - 24;
      if (title) out.title = roomFor(title, share, share, font);
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
  return (
    ["layer", "hconcat", "vconcat", "concat"].some((key) => (spec[key] ?? []).some(drawsRects)) || drawsRects(spec.spec)
  );
}

/** The renderer for a spec: a canvas for charts of many rects (heatmaps, tokens: faster redraws), else SVG;
 * `usermeta.renderer` in the spec, or `globalThis.nbcRenderer` ("svg" or "canvas", for benchmarks) decide
 * instead. SVG export stays either way (`view.toSVG()`). */
export function rendererFor(spec) {
  const forced = globalThis.nbcRenderer ?? spec?.usermeta?.renderer;
  if (forced === "svg" || forced === "canvas") return forced;
  return drawsRects(spec) ? "canvas" : "svg";
}
