// js/src/theme.js's onBackground: the host's background reaches the spec's param that picks the colour ramp.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BACKGROUND_PARAM, onBackground } from "../src/theme.js";

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
