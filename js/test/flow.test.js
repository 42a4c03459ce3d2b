// js/src/flow.js as node runs it: the token strip's cells are as wide as their words, follow each other in
// reading order, wrap whole at the strip's width, and each text starts at the top.
import assert from "node:assert/strict";
import { test } from "node:test";
import { flowTokens } from "../src/flow.js";

const RULES = { font: "monospace", fontSize: 10, pad: 4, gap: 2, rowHeight: 22, markers: { "\u0120": "\u2423" } };
/** An independent width: 6 px a character. */
const measure = (text) => [...text].length * 6;

test("cells are as wide as their words and wrap whole at the width", () => {
  const words = ["internationalization", "a", "\u0120responsibilities", "cat", "sat"];
  const rows = words.map((token, position) => ({ position, token }));
  const { rows: out, heights } = flowTokens(rows, 200, RULES, measure);
  for (const [i, cell] of out.entries()) {
    const shown = words[i].replace("\u0120", "\u2423");
    assert.equal(cell.x1 - cell.x0, measure(shown) + 2 * RULES.pad);
    assert.ok(cell.x1 <= 200, `cell ${i} crosses the width`);
  }
  // 128 + 2 + 14 on line 0; "␣responsibilities" (110 px) would end at 256: line 1, then cat (26) and sat
  assert.deepEqual(
    out.map((c) => [c.x0, c.y0]),
    [
      [0, 0],
      [130, 0],
      [0, 22],
      [112, 22],
      [140, 22],
    ],
  );
  assert.equal(heights.get(0), 44);
});

test("each text is laid out on its own, in position order, and the rows keep their fields", () => {
  const rows = [
    { text: 1, position: 1, token: "b" },
    { text: 0, position: 0, token: "x" },
    { text: 1, position: 0, token: "a" },
  ];
  const { rows: out } = flowTokens(rows, 100, RULES, measure);
  assert.deepEqual(
    out.map((c) => [c.token, c.text, c.x0, c.y0]),
    [
      ["b", 1, 16, 0],
      ["x", 0, 0, 0],
      ["a", 1, 0, 0],
    ],
  );
});

test("a word wider than the strip gets a line of its own", () => {
  const rows = ["ab", "a".repeat(40), "cd"].map((token, position) => ({ position, token }));
  const { rows: out } = flowTokens(rows, 100, RULES, measure);
  assert.deepEqual(
    out.map((c) => c.y0),
    [0, 22, 44],
  );
});
