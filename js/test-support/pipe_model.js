// A widget model whose custom messages travel over stdio, for tests/unit/test_command_js.py, where anywidget's own
// Python handler answers: each `send` is a JSON line on stdout ({content, buffers: count}); each stdin line is a
// custom message from Python ({content, buffers: [base64]}) for the `msg:custom` listeners. It invokes the command
// named by its argument, then prints {resolved, sizes, listeners} (the response, its buffers' sizes, the listeners
// left) and exits. Not a test file of its own: `node --test` does not look in test-support/.
import { createInterface } from "node:readline";
import { commandInvoke } from "../src/command.js";

const name = process.argv[2];
if (!name) {
  console.error("usage: node test-support/pipe_model.js <command name>");
  process.exit(2);
}
const listeners = new Set();
const model = {
  send(content, _callbacks, buffers) {
    console.log(JSON.stringify({ content, buffers: buffers.length }));
  },
  on(event, callback) {
    if (event === "msg:custom") listeners.add(callback);
  },
  off(event, callback) {
    if (event === "msg:custom") listeners.delete(callback);
  },
};
createInterface({ input: process.stdin }).on("line", (line) => {
  const { content, buffers } = JSON.parse(line);
  const views = buffers.map((b) => new DataView(Uint8Array.from(Buffer.from(b, "base64")).buffer));
  for (const callback of [...listeners]) callback(content, views);
});
const invoke = commandInvoke(model);
const [response, buffers] = await invoke(name, {}, { signal: AbortSignal.timeout(60000) });
console.log(JSON.stringify({ resolved: response, sizes: buffers.map((b) => b.byteLength), listeners: listeners.size }));
process.exit(0);
