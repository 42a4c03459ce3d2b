"""js/src/command.js speaks anywidget's command protocol over custom messages (marimo gives ``render`` no working
``experimental.invoke``): a request it sends is answered by anywidget's own Python handler on a real widget, the
answer resolves the request that carries its id, and a timeout (the signal) rejects it and stops listening."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from nb_condense.widgets._bundle import BUNDLE
from nb_condense.widgets._protocol import COMMANDS
from nb_condense.widgets.chart import ChartWidget

COMMAND_JS = (Path(__file__).resolve().parents[2] / "js" / "src" / "command.js").as_uri()
SPEC = {"mark": "point", "data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x", "type": "quantitative"}}}

# A model whose custom messages travel over stdio: each `send` is a JSON line on stdout, each stdin line is a
# custom message from "Python" ({content, buffers: [base64]}) delivered to the `msg:custom` listeners.
PIPE_MODEL = """
import { createInterface } from "node:readline";
const { commandInvoke } = await import(%s);
const listeners = new Set();
const model = {
  send(content, callbacks, buffers) { console.log(JSON.stringify({ content, buffers: buffers.length })); },
  on(event, callback) { if (event === "msg:custom") listeners.add(callback); },
  off(event, callback) { if (event === "msg:custom") listeners.delete(callback); },
};
createInterface({ input: process.stdin }).on("line", (line) => {
  const { content, buffers } = JSON.parse(line);
  const views = buffers.map((b) => new DataView(Uint8Array.from(Buffer.from(b, "base64")).buffer));
  for (const callback of [...listeners]) callback(content, views);
});
const invoke = commandInvoke(model);
const [response, buffers] = await invoke(%s, {}, { signal: AbortSignal.timeout(60000) });
console.log(JSON.stringify({ resolved: response, sizes: buffers.map((b) => b.byteLength), listeners: listeners.size }));
process.exit(0);
"""

# The request's life without a kernel: what resolves it, what rejects it, and what is left listening.
LIFECYCLE = """
const { commandInvoke, RESPONSE } = await import(%s);
const listeners = new Set();
const sent = [];
let sendFails = null;
const model = {
  send(content) { if (sendFails) return sendFails(); sent.push(content); },
  on(event, callback) { listeners.add(callback); },
  off(event, callback) { listeners.delete(callback); },
};
const emit = (content, buffers = []) => { for (const callback of [...listeners]) callback(content, buffers); };
const invoke = commandInvoke(model);
const settle = (promise) =>
  promise.then((value) => ({ value }), (error) => ({ error: `${error.name}: ${error.message}` }));
const out = {};
const alive = setInterval(() => {}, 1000); // node does not wait for AbortSignal.timeout's timer

const first = settle(invoke("_cmd_sync", { a: 1 }, { signal: AbortSignal.timeout(5000) }));
const second = settle(invoke("_cmd_csv", {}, { signal: AbortSignal.timeout(5000) }));
out.sent = sent.map(({ kind, name, msg }) => ({ kind, name, msg }));
out.ids = sent.map(({ id }) => typeof id === "string" && id.length >= 16);
out.distinct = sent[0].id !== sent[1].id;
emit({ id: sent[1].id, kind: "something-else", response: { wrong: true } }); // not a command's response
emit({ id: "not-ours", kind: RESPONSE, response: { wrong: true } });          // another request's
emit({ id: sent[1].id, kind: RESPONSE, response: { csv: "x\\n1\\n" } }, ["buffer"]);
emit({ id: sent[0].id, kind: RESPONSE, response: {} });
out.answered = [await first, await second];
out.listening_after_answers = listeners.size;

const late = settle(invoke("_cmd_answer", {}, { signal: AbortSignal.timeout(50) }));
out.listening_while_waiting = listeners.size;
out.timeout = await late;
out.listening_after_timeout = listeners.size;
emit({ id: sent[2].id, kind: RESPONSE, response: {} }); // too late: nobody resolves twice

out.no_signal = await settle(invoke("_cmd_sync", {}, {}));
sendFails = () => { throw new Error("comm closed"); };
out.send_throws = await settle(invoke("_cmd_sync", {}, { signal: AbortSignal.timeout(5000) }));
sendFails = () => Promise.reject(new Error("kernel unreachable"));
out.send_rejects = await settle(invoke("_cmd_sync", {}, { signal: AbortSignal.timeout(5000) }));
out.listening_at_end = listeners.size;
clearInterval(alive);
console.log(JSON.stringify(out));
"""


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("node is not installed: js/src/command.js cannot run (install Node 20 to run this)")
    return found


def answer_as_python(widget: ChartWidget, request: dict) -> dict:
    """Feed ``request`` (as the front end sent it) to anywidget's handler on ``widget``; the custom message Python
    sends back, with base64 buffers."""
    replies: list[tuple[dict, list]] = []
    widget.send = lambda content, buffers=None: replies.append((content, buffers or []))
    widget._handle_msg({"content": {"data": {"method": "custom", "content": request}}, "buffers": []})
    del widget.send
    (content, buffers), = replies
    return {"content": content, "buffers": [base64.b64encode(bytes(b)).decode() for b in buffers]}


@pytest.mark.parametrize("name", ["bundle", "sync"])
def test_a_request_from_js_is_answered_by_anywidgets_python_handler_and_resolves(name):
    widget = ChartWidget(SPEC)
    widget.send_state = lambda names=None: None  # no comm here: sync's re-send goes nowhere
    script = PIPE_MODEL % (json.dumps(COMMAND_JS), json.dumps(COMMANDS[name]))
    with subprocess.Popen([node(), "--input-type=module", "-e", script], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        sent = json.loads(process.stdout.readline() or "null")
        assert sent is not None, process.stderr.read()
        assert sent["content"]["kind"] == "anywidget-command" and sent["content"]["name"] == COMMANDS[name]
        reply = answer_as_python(widget, sent["content"])
        process.stdin.write(json.dumps(reply) + "\n")
        process.stdin.flush()
        out, err = process.communicate(timeout=60)
    result = json.loads(out)
    if name == "bundle":
        assert result["resolved"] == {"hash": widget._bundle_hash}
        assert result["sizes"] == [BUNDLE.stat().st_size]
    else:
        assert result["resolved"] == {} and result["sizes"] == []
    assert result["listeners"] == 0


def test_only_its_own_response_resolves_a_request_and_a_timeout_rejects_it_and_stops_listening():
    script = LIFECYCLE % json.dumps(COMMAND_JS)
    run = subprocess.run([node(), "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["sent"][:2] == [{"kind": "anywidget-command", "name": "_cmd_sync", "msg": {"a": 1}},
                               {"kind": "anywidget-command", "name": "_cmd_csv", "msg": {}}]
    assert out["ids"] == [True, True] and out["distinct"]
    assert out["answered"] == [{"value": [{}, []]}, {"value": [{"csv": "x\n1\n"}, ["buffer"]]}]
    assert out["listening_after_answers"] == 0
    assert out["listening_while_waiting"] == 1
    assert out["timeout"]["error"].startswith("TimeoutError: ")  # the signal's reason (wording varies by engine)
    assert out["listening_after_timeout"] == 0
    assert out["no_signal"] == {"error": "TypeError: command '_cmd_sync' needs an AbortSignal (its timeout)"}
    assert out["send_throws"] == {"error": "Error: comm closed"}
    assert out["send_rejects"] == {"error": "Error: kernel unreachable"}
    assert out["listening_at_end"] == 0
