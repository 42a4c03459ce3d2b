// The widget protocol, read from its one declaration: nb_condense/widgets/protocol.json (esbuild bundles the file;
// Python reads the same file in nb_condense/widgets/_protocol.py). Nothing here retypes a name, default or timeout.
import declared from "../../nb_condense/widgets/protocol.json" with { type: "json" };

/**
 * @typedef {{name: string, writer: string[], reader: string[], default: any, meaning: string}} Trait
 * @typedef {{name: string, widget: string, traits: Trait[]}} Group
 * @typedef {{name: string, method: string, timeoutMs: number, meaning: string}} Command
 */

/** @type {Group[]} */
const groups = declared.groups;
/** @type {Command[]} */
const commandList = declared.commands;

/**
 * The trait names of the group `name` (`shared`, `explorerChoices`, ...).
 * @param {string} name The group's name in protocol.json.
 * @returns {string[]} Its traits' names.
 */
function names(name) {
  return /** @type {Group} */ (groups.find((g) => g.name === name)).traits.map((t) => t.name);
}

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
 * @property {Record<string, string>} commands Command names (Python methods), by the front end's name.
 * @property {{request: string, response: string, cancel: string}} messages The custom messages' kinds.
 */

/** @type {Protocol} */
export const PROTOCOL = {
  kinds: declared.kinds,
  shared: names("shared"),
  explorerChoices: names("explorerChoices"),
  explorerState: names("explorerState"),
  pageState: names("pageState"),
  chartState: names("chartState"),
  monitorState: names("monitorState"),
  monitorPanels: declared.monitorPanels,
  commands: Object.fromEntries(commandList.map((c) => [c.name, c.method])),
  messages: declared.messages,
};

/**
 * The declared defaults of the traits of `groups` (fresh copies), e.g. the explorer's initial state.
 * @param {...string} names Group names in protocol.json.
 * @returns {Record<string, any>} Each trait's default, by name.
 */
export function defaults(...names) {
  const chosen = groups.filter((g) => names.includes(g.name)).flatMap((g) => g.traits);
  return Object.fromEntries(chosen.map((t) => [t.name, structuredClone(t.default)]));
}

/**
 * How long the front end waits for each command's answer, in ms (anywidget's own default is 3 s). A kernel busy
 * with a running cell answers nothing until the cell ends, so the waits are long; what was sent is not lost.
 * @type {Record<string, number>}
 */
export const TIMEOUT_MS = Object.fromEntries(commandList.map((c) => [c.name, c.timeoutMs]));

/**
 * Invoke Python's command `name` (anywidget's command protocol, command.js) with an explicit timeout; resolve with
 * its answer, or reject with the error Python answered (`{error}`) or the timeout's (an Error with `timeout: true`).
 * Aborting `signal` (a view closed) gives the request up too; either way Python is told and drops it (command.js).
 * @param {import("./command.js").Invoke} invoke The widget's invoke (`commandInvoke(model)`).
 * @param {string} name A key of `PROTOCOL.commands`.
 * @param {object} [msg] The command's message.
 * @param {AbortSignal} [signal] Gives the request up when it aborts.
 * @returns {Promise<[any, DataView[]]>} The answer and its buffers.
 */
export async function ask(invoke, name, msg = {}, signal = undefined) {
  const seconds = TIMEOUT_MS[name] / 1000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("timed out", "TimeoutError")), TIMEOUT_MS[name]);
  const giveUp = () => controller.abort(signal?.reason);
  if (signal?.aborted) giveUp();
  signal?.addEventListener("abort", giveUp, { once: true });
  let reply;
  try {
    reply = await invoke(PROTOCOL.commands[name], msg, { signal: controller.signal });
  } catch (error) {
    if (error?.name === "TimeoutError") {
      const late = new Error(`Python did not answer '${name}' within ${seconds} s (is a cell still running?)`);
      throw Object.assign(late, { timeout: true });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", giveUp);
  }
  const [response, buffers] = reply;
  if (response?.error) throw new Error(response.error);
  return [response, buffers];
}
