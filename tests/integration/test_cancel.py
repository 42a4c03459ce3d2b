"""A request the front end gives up on (js/src/command.js sends ``{id, kind: CANCEL}``) is dropped by Python: a
request still waiting for its answer gets none, the others are answered as before; cancelling an answered request
does nothing. The explorer's ``answer`` waits for a measurement that the choices started."""

from __future__ import annotations

import threading

import nb_condense as nbc
from conftest import tiny_model
from nb_condense.widgets._protocol import CANCEL, COMMANDS, REQUEST, RESPONSE


def deliver(widget, content):
    """Play the front end sending ``content`` as a custom message to ``widget``."""
    widget._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def slow_explorer(tokenizer):
    """An explorer whose background measurement waits for the returned gate before each forward pass."""
    gate = threading.Event()
    model = tiny_model("gpt2")
    model.register_forward_pre_hook(lambda *_: None if gate.wait(30) else None)
    texts = [f"text number {i} with a few words" for i in range(3)]
    session = nbc.CondensationSession(model, tokenizer, texts=texts, max_length=32, batch_size=1, name="slow",
                                      show_progress=False)
    return nbc.CondensationExplorer(session), gate


def test_a_cancelled_answer_is_never_sent_and_the_others_arrive_after_the_measurement(tokenizer):
    explorer, gate = slow_explorer(tokenizer)
    sent = []
    explorer.send = lambda content, buffers=None: sent.append(content)
    explorer.send_state = lambda key=None: sent.append({"state": key})
    assert explorer.status == "measuring"
    deliver(explorer, {"id": "early", "kind": REQUEST, "name": COMMANDS["answer"], "msg": {}})
    deliver(explorer, {"id": "late", "kind": REQUEST, "name": COMMANDS["answer"], "msg": {}})
    assert [c for c in sent if "kind" in c] == []  # both wait for the measurement
    deliver(explorer, {"id": "early", "kind": CANCEL})
    gate.set()
    explorer.wait(60)
    answers = [c for c in sent if c.get("kind") == RESPONSE]
    assert answers == [{"id": "late", "kind": RESPONSE, "response": {}}]  # "early" was dropped
    assert sent[-2:] == [{"state": list(explorer._synced)}, answers[0]]  # answered after the whole new state
    assert explorer.status == "idle" and explorer.session.measured


def test_cancelling_an_answered_request_changes_nothing(tokenizer):
    explorer, gate = slow_explorer(tokenizer)
    gate.set()
    explorer.wait(60)
    sent = []
    explorer.send = lambda content, buffers=None: sent.append(content)
    deliver(explorer, {"id": "r1", "kind": REQUEST, "name": COMMANDS["answer"], "msg": {}})
    deliver(explorer, {"id": "r1", "kind": CANCEL})
    deliver(explorer, {"id": "never-sent", "kind": CANCEL})
    assert sent == [{"id": "r1", "kind": RESPONSE, "response": {}}]  # answered at once: nothing runs
    assert explorer.status == "idle"


def test_an_unknown_command_is_answered_with_an_error(tokenizer):
    explorer, gate = slow_explorer(tokenizer)
    gate.set()
    explorer.wait(60)
    sent = []
    explorer.send = lambda content, buffers=None: sent.append(content)
    deliver(explorer, {"id": "r2", "kind": REQUEST, "name": "_cmd_nothing", "msg": {}})
    (reply,) = sent
    assert reply["id"] == "r2" and "has no command '_cmd_nothing'" in reply["response"]["error"]
