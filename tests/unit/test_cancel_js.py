"""js/src/command.js tells Python when it gives a request up: an aborted signal (a view closed, ``ask``'s timeout)
sends ``{id, kind: CANCEL}`` for that request's id; an answered request sends nothing more."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from nb_condense.widgets._protocol import CANCEL, COMMANDS, REQUEST, RESPONSE

SRC = Path(__file__).resolve().parents[2] / "js" / "src"

SCRIPT = """
const { commandInvoke } = await import(%s);
const { ask } = await import(%s);
const sent = [];
const listeners = new Set();
const model = {
  send(content) { sent.push(content); },
  on(event, callback) { listeners.add(callback); },
  off(event, callback) { listeners.delete(callback); },
};
const invoke = commandInvoke(model);
const settle = (promise) => promise.then((value) => ({ value }), (error) => ({ error: error.name }));
const out = {};
const alive = setInterval(() => {}, 1000); // node does not wait for AbortSignal.timeout's timer

const controller = new AbortController();
const aborted = settle(invoke("_cmd_csv", {}, { signal: controller.signal }));
controller.abort();
out.aborted = { result: await aborted, sent: sent.splice(0) };

out.timedOut = { result: await settle(invoke("_cmd_sync", {}, { signal: AbortSignal.timeout(20) })),
                 sent: sent.splice(0) };

const answered = settle(invoke("_cmd_sync", {}, { signal: AbortSignal.timeout(200) }));
for (const callback of [...listeners]) callback({ id: sent[0].id, kind: %s, response: {} }, []);
out.answered = { result: await answered, sent: sent.splice(0) };
await new Promise((resolve) => setTimeout(resolve, 300)); // past the answered request's timeout
out.afterTimeout = sent.splice(0);

const closing = new AbortController();
const asked = settle(ask(invoke, "answer", {}, closing.signal));
closing.abort();
out.closed = { result: await asked, sent: sent.splice(0) };
clearInterval(alive);
console.log(JSON.stringify(out));
"""


def test_an_aborted_request_sends_a_cancel_with_its_id_and_an_answered_one_does_not():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: js/src/command.js cannot run (install Node 20 to run this)")
    script = SCRIPT % (json.dumps((SRC / "command.js").as_uri()), json.dumps((SRC / "protocol.js").as_uri()),
                       json.dumps(RESPONSE))
    run = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    for case, name, error in [("aborted", "_cmd_csv", "AbortError"), ("timedOut", "_cmd_sync", "TimeoutError"),
                              ("closed", COMMANDS["answer"], "AbortError")]:
        request, cancel = out[case]["sent"]
        assert request["kind"] == REQUEST and request["name"] == name
        assert cancel == {"id": request["id"], "kind": CANCEL}, case
        assert out[case]["result"] == {"error": error}, case
    (request,) = out["answered"]["sent"]
    assert request["kind"] == REQUEST and out["answered"]["result"] == {"value": [{}, []]}
    assert out["afterTimeout"] == []  # an answered request is never cancelled
