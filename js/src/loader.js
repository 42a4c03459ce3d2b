// The first module of every widget (its `_esm`): a few kilobytes. The big bundle (vega, vega-lite, vega-embed and
// our drawing code, ~870 KB) is loaded once per page and shared by every widget on it, from the first of:
// this page's cache (globalThis, keyed by the bundle's hash), the bundle this widget carries (`_bundle`: the first
// widget a kernel displays and the live view carry it, so they draw while their cell still runs), the kernel
// (the `bundle` command, answered once the kernel is idle). See nb_condense/widgets/_protocol.py.
import { commandInvoke } from "./command.js";
import { ask } from "./protocol.js";

/**
 * @typedef {object} Entry One bundle of the page's cache.
 * @property {Promise<any>} module The bundle's module once imported.
 * @property {boolean} settled Whether its code was offered (carried or answered).
 * @property {boolean} asked Whether the kernel was asked for it.
 * @property {(code: ArrayBuffer | DataView) => void} offer Import `code` (the first offer wins).
 * @property {(error: Error) => void} fail Reject every render waiting for it.
 */

/** @type {Map<string, Entry>} */
globalThis.__nb_condense_bundles ??= new Map();
const bundles = globalThis.__nb_condense_bundles;

/**
 * The cache entry of `hash`, created empty.
 * @param {string} hash The bundle's hash.
 * @returns {Entry} Its entry.
 */
function entry(hash) {
  let found = bundles.get(hash);
  if (found) return found;
  let resolve = (/** @type {any} */ _module) => {};
  let reject = (/** @type {Error} */ _error) => {};
  const module = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const fail = (/** @type {Error} */ error) => {
    if (bundles.get(hash) === found) bundles.delete(hash); // a later widget may try again
    reject(error);
  };
  found = {
    module,
    settled: false,
    asked: false,
    offer(code) {
      if (this.settled) return;
      this.settled = true;
      const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
      import(/* webpackIgnore: true */ /* @vite-ignore */ url).then((imported) => {
        URL.revokeObjectURL(url);
        resolve(imported.default);
      }, fail);
    },
    fail,
  };
  bundles.set(hash, found);
  return found;
}

/**
 * The page's bundle for `model`: cached, carried, or asked from the kernel.
 * @param {import("@anywidget/types").AnyModel<any>} model The widget's model.
 * @param {import("./command.js").Invoke} invoke The widget's command invoke.
 * @returns {Promise<any>} The bundle's default export.
 */
function load(model, invoke) {
  const hash = model.get("_bundle_hash");
  const found = entry(hash);
  const carried = model.get("_bundle");
  if (carried?.byteLength) found.offer(carried);
  if (!found.settled && !found.asked) {
    found.asked = true;
    ask(invoke, "bundle")
      .then(([reply, buffers]) => {
        if (reply.hash !== hash || !buffers?.length)
          throw new Error(`the kernel sent bundle ${reply.hash}, not ${hash}`);
        found.offer(buffers[0]);
      })
      .catch(found.fail);
  }
  return found.module;
}

export default {
  /** @type {import("@anywidget/types").Render<any>} */
  async render({ model, el }) {
    const what = { chart: "chart", monitor: "training monitor" }[model.get("_kind")] ?? "condensation explorer";
    el.textContent = `Loading the ${what}…`;
    try {
      const bundle = await load(model, commandInvoke(model)); // the host's experimental.invoke is not used: command.js
      return bundle.render({ model, el });
    } catch (error) {
      el.textContent = `The ${what} could not load: ${error.message ?? error}`;
      return undefined;
    }
  },
};
