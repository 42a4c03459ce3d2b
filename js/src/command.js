// anywidget's command protocol (the Python side: methods marked `@anywidget.experimental.command`), spoken by the
// widget itself over its model's custom messages. Every host we support relays custom messages both ways
// (JupyterLab, Notebook 7 and Voila through ipywidgets' `msg:custom`; marimo through its own model), but not every
// host's runtime gives `render` a working `experimental.invoke`: marimo's (0.25) always throws "anywidget.invoke
// not supported in marimo". So every widget, in every host and in the offline page, sends its requests here, in the
// wire format that anywidget's Python handler (`anywidget.experimental._register_anywidget_commands`) reads and
// answers; the Python side stays `@command`:
//   front end -> Python  {id, kind: "anywidget-command", name, msg}            (+ buffers)
//   Python -> front end  {id, kind: "anywidget-command-response", response}    (+ buffers)
//   front end -> Python  {id, kind: "nb-condense-command-cancel"}               (the request was aborted)
// Written from that message format (anywidget is MIT-licensed; no code copied). The protocol's commands and their
// timeouts, and these messages' kinds, are declared in nb_condense/widgets/protocol.json (read by protocol.js).
import { PROTOCOL } from "./protocol.js";

export const { request: REQUEST, response: RESPONSE, cancel: CANCEL } = PROTOCOL.messages;

/**
 * Invoke a Python command: `(name, msg, {signal, buffers}) => Promise<[response, buffers]>`. The signal is
 * required: every request carries its own timeout.
 * @typedef {(name: string, msg: any, options: {signal: AbortSignal, buffers?: ArrayBuffer[]}) => Promise<[any, DataView[]]>} Invoke
 */

/**
 * The model's part of the protocol: custom messages out (`send`) and in (`msg:custom`).
 * @typedef {{send: (content: any, callbacks?: any, buffers?: ArrayBuffer[]) => unknown,
 *   on: (event: string, callback: (content: any, buffers: DataView[]) => void) => void,
 *   off: (event: string, callback: (content: any, buffers: DataView[]) => void) => void}} CommandModel
 */

/**
 * A fresh request id: 128 random bits in hex (`crypto.getRandomValues` works on plain-http pages too, where
 * `crypto.randomUUID` does not exist).
 * @returns {string} The id.
 */
function requestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The invoke of `model`: each call sends one request and resolves with the response carrying its id; it rejects
 * with the signal's reason when the signal aborts first (then it stops listening and tells Python, which drops the
 * request: `{id, kind: CANCEL}`), or with the host's error when the message cannot be sent.
 * @param {CommandModel} model The widget's model (anywidget's, marimo's, or the offline page's stand-in).
 * @returns {Invoke} Its invoke.
 */
export function commandInvoke(model) {
  return (name, msg, options) => {
    const signal = options?.signal;
    if (!(signal instanceof AbortSignal)) {
      return Promise.reject(new TypeError(`command '${name}' needs an AbortSignal (its timeout)`));
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const id = requestId();
      /** @type {(content: any, buffers: DataView[]) => void} */
      const onReply = (content, buffers) => {
        if (content?.kind !== RESPONSE || content.id !== id) return; // another request's or another message
        stop();
        resolve([content.response, buffers ?? []]);
      };
      const onAbort = () => {
        stop();
        reject(signal.reason);
        cancel(model, id);
      };
      const fail = (/** @type {unknown} */ error) => {
        stop();
        reject(error);
      };
      const stop = () => {
        model.off("msg:custom", onReply);
        signal.removeEventListener("abort", onAbort);
      };
      model.on("msg:custom", onReply);
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        // marimo's send returns a promise (rejected when the kernel cannot be reached); ipywidgets' may throw
        Promise.resolve(model.send({ id, kind: REQUEST, name, msg }, undefined, options.buffers ?? [])).catch(fail);
      } catch (error) {
        fail(error);
      }
    });
  };
}

/**
 * Tell Python that the request `id` was given up (best effort: a host that cannot send it loses nothing).
 * @param {CommandModel} model The widget's model.
 * @param {string} id The request's id.
 */
function cancel(model, id) {
  try {
    Promise.resolve(model.send({ id, kind: CANCEL }, undefined, [])).catch(() => {});
  } catch {
    // the request is dropped on this side either way
  }
}
