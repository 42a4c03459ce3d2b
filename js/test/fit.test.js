// js/src/fit.js as node runs it: a chart's caption wraps to the room it is given instead of ending in an ellipsis
// (the heatmap's caption was cut at 420 and 700 px), and the wrapped lines are the caption, word for word.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fitted } from "../src/fit.js";

// Python's captions (charts' `caption("pooled")` and `caption("distributions")`): long enough to need two lines
const POOLED =
  "pooled: every token pair of the chosen texts (pairs of distinct tokens); not the paper's position-averaged heatmap";
const DISTRIBUTIONS =
  "probability density of the cosine similarity of token pairs (pairs of distinct tokens), per layer, pooled over " +
  "the chosen texts";

/** An independent width: 0.6 em a character of Vega's 12 px subtitle is what node (no canvas) assumes. */
const width = (line) => line.length * 12 * 0.6;

const single = (subtitle) => ({ width: 400, height: 200, mark: "rect", title: { text: "Heatmap", subtitle } });

for (const available of [420, 700]) {
  test(`a long caption wraps into lines that fit instead of an ellipsis (${available} px)`, () => {
    const { title } = fitted(single(POOLED), available)[0];
    const lines = title.subtitle;
    assert.ok(Array.isArray(lines) && lines.length >= 2, JSON.stringify(lines));
    assert.equal(lines.join(" "), POOLED); // every word kept, in order
    const room = Math.min(available, 400 + 240) - 24; // the limit (width - 16) less the view's padding
    for (const line of lines) assert.ok(width(line) <= room, `${JSON.stringify(line)} is wider than ${room} px`);
    assert.equal(title.text, "Heatmap");
    assert.deepEqual(title.limit, { expr: "max(120, containerSize()[0] - 16)" });
  });
}

test("a caption that fits stays one line", () => {
  assert.equal(fitted(single("pooled over 6 texts"), 1100)[0].title.subtitle, "pooled over 6 texts");
});

test("a figure's captions wrap to each chart's share", () => {
  const part = single(DISTRIBUTIONS);
  const [spec] = fitted({ hconcat: [part, part] }, 700);
  const parts = spec.hconcat ?? spec.concat;
  const columns = spec.hconcat ? spec.hconcat.length : spec.columns;
  const room = Math.floor(700 / columns) - 24;
  for (const drawn of parts) {
    const lines = drawn.title.subtitle;
    assert.equal(lines.join(" "), DISTRIBUTIONS);
    assert.equal(drawn.title.limit, room);
    for (const line of lines) assert.ok(width(line) <= room, `${JSON.stringify(line)} is wider than ${room} px`);
  }
});
