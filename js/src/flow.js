// The token strip's layout: each token a cell as wide as its word, in reading order, wrapping whole cells at the
// chart's width, like text. Python lays the cells out with an estimate of the words' widths
// (nb_condense.charts.specs.token_cells) and puts its rules in the spec (`usermeta.nbc_flow`); here they are laid
// out again with the widths the browser measures, whenever the chart's width changes. Drawing only: no statistics.

/** @typedef {{font: string, fontSize: number, pad: number, gap: number, rowHeight: number,
 *   markers: Record<string, string>}} FlowRules */

let measuring;

/** Width in px of `text` in `fontSize` px `font` (measured on a canvas; 0.62 em a character without one). */
export function measureText(text, font, fontSize) {
  measuring ??= globalThis.document?.createElement("canvas").getContext("2d") ?? false;
  if (!measuring) return [...text].length * fontSize * 0.62;
  measuring.font = `${fontSize}px ${font}`;
  return measuring.measureText(text).width;
}

/** The flow rules a spec carries, or null (a chart that is not a token strip). */
export function flowRules(spec) {
  return spec?.usermeta?.nbc_flow ?? null;
}

/** `token` as the strip shows it: the tokenizers' space markers replaced by readable ones (`rules.markers`). */
function readable(token, rules) {
  let out = String(token ?? "");
  for (const [marker, shown] of Object.entries(rules.markers ?? {})) out = out.split(marker).join(shown);
  return out;
}

/**
 * `rows` (tokens, with `position`, and `label` or `token`; those of several texts told apart by `text`) with
 * each token's cell `x0, x1, y0, y1` in px, laid out in a strip `width` px wide: cells as wide as their words
 * plus `pad` either side, `gap` apart, a new line where the next cell would cross `width` (a word wider than
 * the strip gets a line of its own). Each text is laid out on its own, from the top.
 * @param {Record<string, any>[]} rows The rows; not changed.
 * @param {number} width The strip's width, px.
 * @param {FlowRules} rules The layout's rules (the spec's `usermeta.nbc_flow`).
 * @param {(text: string) => number} [measure] The width of a word in px.
 * @returns {{rows: Record<string, any>[], heights: Map<any, number>}} New rows, and each text's strip height.
 */
export function flowTokens(rows, width, rules, measure = (text) => measureText(text, rules.font, rules.fontSize)) {
  const order = rows.map((_row, index) => index);
  order.sort((a, b) => {
    const ta = rows[a].text ?? 0;
    const tb = rows[b].text ?? 0;
    return ta === tb ? rows[a].position - rows[b].position : ta < tb ? -1 : 1;
  });
  const out = new Array(rows.length);
  const heights = new Map();
  let text;
  let x = 0;
  let line = 0;
  for (const index of order) {
    const row = rows[index];
    if ((row.text ?? 0) !== text) {
      text = row.text ?? 0;
      x = 0;
      line = 0;
    }
    const w = Math.ceil(measure(row.label ?? readable(row.token, rules))) + 2 * rules.pad;
    if (x > 0 && x + w > width) {
      x = 0;
      line += 1;
    }
    const y0 = line * rules.rowHeight;
    /** @type {Record<string, any>} */
    const cell = {}; // the row's own fields only (not the ids Vega gave the rows it drew)
    for (const key of Object.keys(row)) cell[key] = row[key];
    Object.assign(cell, { x0: x, x1: x + w, y0, y1: y0 + rules.rowHeight - rules.gap });
    out[index] = cell;
    heights.set(text, y0 + rules.rowHeight);
    x += w + rules.gap;
  }
  return { rows: out, heights };
}
