// js/src/theme.js's onBackground: the host's background reaches the spec's param that picks the colour ramp.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BACKGROUND_PARAM, contrastRatio, onBackground, textOn } from "../src/theme.js";

test("the background param takes the host's colour; other params and the input stay as they were", () => {
  const spec = {
    params: [
      { name: BACKGROUND_PARAM, value: "white" },
      { name: "layer_pick", select: "point" },
    ],
  };
  const drawn = onBackground(spec, "rgb(17, 17, 17)");
  assert.deepEqual(drawn.params, [{ name: BACKGROUND_PARAM, value: "rgb(17, 17, 17)" }, spec.params[1]]);
  assert.equal(spec.params[0].value, "white");
});

test("a spec without the param is returned as it is", () => {
  const spec = { params: [{ name: "other", value: 1 }], mark: "point" };
  assert.equal(onBackground(spec, "black"), spec);
  const bare = { mark: "point" };
  assert.equal(onBackground(bare, "black"), bare);
});

test("the text on a pressed control reaches 4.5:1 on the accents of every host, in light and dark", () => {
  const accents = {
    "marimo light (--primary)": "rgb(8, 128, 234)", // white on it: 3.97:1
    "marimo dark (--primary)": "rgb(40, 135, 159)", // white on it: 4.15:1
    "JupyterLab light (--jp-brand-color1)": "rgb(25, 118, 210)",
    "JupyterLab dark (--jp-brand-color1)": "rgb(66, 165, 245)",
    "VS Code (--vscode-focusBorder)": "rgb(0, 127, 212)",
  };
  for (const [host, accent] of Object.entries(accents)) {
    assert.ok(contrastRatio(textOn(accent), accent) >= 4.5, `${host}: ${textOn(accent)} on ${accent}`);
  }
  // the worst case for both: the accent whose contrast with white equals its contrast with black
  for (let grey = 0; grey <= 255; grey += 1) {
    const fill = `rgb(${grey}, ${grey}, ${grey})`;
    assert.ok(contrastRatio(textOn(fill), fill) >= 4.58, fill);
  }
});

test("the contrast ratio is WCAG 2's", () => {
  assert.equal(contrastRatio("rgb(255, 255, 255)", "rgb(0, 0, 0)"), 21);
  assert.equal(contrastRatio("rgb(0, 0, 0)", "rgb(0, 0, 0)"), 1);
  assert.ok(Math.abs(contrastRatio("rgb(255, 255, 255)", "rgb(8, 128, 234)") - 3.97) < 0.01);
  assert.ok(Math.abs(contrastRatio("rgb(118, 118, 118)", "rgb(255, 255, 255)") - 4.54) < 0.01);
});
