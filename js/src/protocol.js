// The widget protocol's names, as nb_condense/widgets/_protocol.py defines them (the table of every trait is
// there). tests/unit/test_protocol.py imports this module with node and checks that it equals Python's tuples.

/**
 * @typedef {object} Protocol
 * @property {string[]} kinds The values of `_kind`: which widget the bundle draws.
 * @property {string[]} shared Traits every widget has.
 * @property {string[]} explorerChoices The explorer's choices (written by the user and by Python).
 * @property {string[]} explorerState The explorer's traits that Python writes and the front end draws.
 * @property {string[]} pageState Keys of the offline page's stand-in model that the explorer also reads.
 * @property {string[]} chartState The chart widget's traits.
 * @property {string[]} monitorState The live view's traits.
 * @property {string[]} monitorPanels The live view's panels, in order.
 * @property {{bundle: string, sync: string, answer: string, csv: string}} commands Command names (Python methods).
 * @property {string} layerSelection The heatmap's click selection param (charts.LAYER_SELECTION).
 */

/** @type {Protocol} */
export const PROTOCOL = {
  kinds: ["explorer", "chart", "monitor"],
  shared: ["_kind", "_bundle_hash", "_bundle"],
  explorerChoices: ["model", "layers", "samples", "view"],
  explorerState: [
    "debounce_wait",
    "status",
    "error",
    "_views",
    "_models",
    "_layer_options",
    "_sample_options",
    "_spec",
    "_revision",
    "_data",
    "_progress",
  ],
  pageState: ["_inline", "_params"],
  chartState: ["spec"],
  monitorState: ["step", "max_steps", "status", "summary", "_panels", "_data"],
  monitorPanels: ["losses", "means", "heatmap"],
  commands: { bundle: "_cmd_bundle", sync: "_cmd_sync", answer: "_cmd_answer", csv: "_cmd_csv" },
  layerSelection: "layer_pick",
};

/**
 * How long the front end waits for each command's answer, in ms (anywidget's own default is 3 s). A kernel busy
 * with a running cell answers nothing until the cell ends, so the waits are long; what was sent is not lost.
 * @type {{bundle: number, sync: number, answer: number, csv: number}}
 */
export const TIMEOUT_MS = { bundle: 300_000, sync: 600_000, answer: 120_000, csv: 60_000 };

/**
 * Invoke Python's command `name` (anywidget's command API) with an explicit timeout; resolve with its answer, or
 * reject with the error Python answered (`{error}`) or the timeout's (an Error with `timeout: true`).
 * @param {Invoke} invoke The `experimental.invoke` anywidget gives `render`.
 * @param {keyof typeof TIMEOUT_MS} name A key of `PROTOCOL.commands`.
 * @param {object} [msg] The command's message.
 * @returns {Promise<[any, DataView[]]>} The answer and its buffers.
 */
export async function ask(invoke, name, msg = {}) {
  const seconds = TIMEOUT_MS[name] / 1000;
  let reply;
  try {
    reply = await invoke(PROTOCOL.commands[name], msg, { signal: AbortSignal.timeout(TIMEOUT_MS[name]) });
  } catch (error) {
    if (error?.name === "TimeoutError") {
      const late = new Error(`Python did not answer '${name}' within ${seconds} s (is a cell still running?)`);
      throw Object.assign(late, { timeout: true });
    }
    throw error;
  }
  const [response, buffers] = reply;
  if (response?.error) throw new Error(response.error);
  return [response, buffers];
}

/**
 * anywidget's `experimental.invoke`: `(name, msg, {signal, buffers}) => Promise<[response, buffers]>`.
 * @typedef {(name: string, msg: any, options?: {signal?: AbortSignal, buffers?: ArrayBuffer[]}) => Promise<[any, DataView[]]>} Invoke
 */

/**
 * The `invoke` of a render's `experimental`, or a clear error when the host has none.
 * @param {{invoke?: Invoke} | undefined} experimental What anywidget passed to `render`.
 * @returns {Invoke} The host's invoke.
 */
export function hostInvoke(experimental) {
  if (typeof experimental?.invoke === "function") return experimental.invoke;
  return () => Promise.reject(new Error("this notebook host has no anywidget command API (experimental.invoke)"));
}
