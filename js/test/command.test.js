// js/src/command.js without a kernel: what resolves a request, what rejects it, and what is left listening.
// (tests/unit/test_command_js.py has anywidget's own Python handler answer it, through test-support/pipe_model.js.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { commandInvoke, RESPONSE } from "../src/command.js";

/** A model that records what it sends (or fails to, when `sendFails` is set) and lets a test play Python. */
function fakeModel() {
  const listeners = new Set();
  const model = {
    sent: [],
    sendFails: null,
    listeners,
    send(content) {
      if (model.sendFails) return model.sendFails();
      model.sent.push(content);
    },
    on(_event, callback) {
      listeners.add(callback);
    },
    off(_event, callback) {
      listeners.delete(callback);
    },
    emit(content, buffers = []) {
      for (const callback of [...listeners]) callback(content, buffers);
    },
  };
  return model;
}

/** A promise's outcome as data: `{value}` or `{error: "Name: message"}`. */
const settle = (promise) =>
  promise.then(
    (value) => ({ value }),
    (error) => ({ error: `${error.name}: ${error.message}` }),
  );

/** Run `body` with the event loop held open: node does not wait for AbortSignal.timeout's timer. */
async function alive(body) {
  const timer = setInterval(() => {}, 1000);
  try {
    return await body();
  } finally {
    clearInterval(timer);
  }
}

test("only its own response resolves a request", async () => {
  const model = fakeModel();
  const invoke = commandInvoke(model);
  const first = settle(invoke("_cmd_sync", { a: 1 }, { signal: AbortSignal.timeout(5000) }));
  const second = settle(invoke("_cmd_csv", {}, { signal: AbortSignal.timeout(5000) }));
  const { sent } = model;
  assert.deepEqual(
    sent.map(({ kind, name, msg }) => ({ kind, name, msg })),
    [
      { kind: "anywidget-command", name: "_cmd_sync", msg: { a: 1 } },
      { kind: "anywidget-command", name: "_cmd_csv", msg: {} },
    ],
  );
  assert.deepEqual(
    sent.map(({ id }) => typeof id === "string" && id.length >= 16),
    [true, true],
  );
  assert.notEqual(sent[0].id, sent[1].id);
  model.emit({ id: sent[1].id, kind: "something-else", response: { wrong: true } }); // not a command's response
  model.emit({ id: "not-ours", kind: RESPONSE, response: { wrong: true } }); // another request's
  model.emit({ id: sent[1].id, kind: RESPONSE, response: { csv: "x\n1\n" } }, ["buffer"]);
  model.emit({ id: sent[0].id, kind: RESPONSE, response: {} });
  assert.deepEqual([await first, await second], [{ value: [{}, []] }, { value: [{ csv: "x\n1\n" }, ["buffer"]] }]);
  assert.equal(model.listeners.size, 0); // answered: nothing left listening
});

test("a timeout rejects a request with the signal's reason and stops listening", async () => {
  const model = fakeModel();
  const invoke = commandInvoke(model);
  await alive(async () => {
    const late = settle(invoke("_cmd_answer", {}, { signal: AbortSignal.timeout(50) }));
    assert.equal(model.listeners.size, 1); // listening while it waits
    const { error } = await late;
    assert.match(error, /^TimeoutError: /); // the signal's reason (its wording varies by engine)
    assert.equal(model.listeners.size, 0);
    model.emit({ id: model.sent[0].id, kind: RESPONSE, response: {} }); // too late: nobody resolves twice
  });
});

test("a request without a signal, or that cannot be sent, rejects and leaves nothing listening", async () => {
  const model = fakeModel();
  const invoke = commandInvoke(model);
  assert.deepEqual(await settle(invoke("_cmd_sync", {}, {})), {
    error: "TypeError: command '_cmd_sync' needs an AbortSignal (its timeout)",
  });
  await alive(async () => {
    model.sendFails = () => {
      throw new Error("comm closed");
    };
    assert.deepEqual(await settle(invoke("_cmd_sync", {}, { signal: AbortSignal.timeout(5000) })), {
      error: "Error: comm closed",
    });
    model.sendFails = () => Promise.reject(new Error("kernel unreachable"));
    assert.deepEqual(await settle(invoke("_cmd_sync", {}, { signal: AbortSignal.timeout(5000) })), {
      error: "Error: kernel unreachable",
    });
  });
  assert.equal(model.listeners.size, 0);
});
