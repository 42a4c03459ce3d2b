"""js/src/command.js speaks anywidget's command protocol over custom messages (marimo gives ``render`` no working
``experimental.invoke``): a request it sends is answered by anywidget's own Python handler on a real widget, and the
answer resolves it. The request's life without a kernel (ids, timeouts, listeners) is js/test/command.test.js."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
from js_tools import JS, node

from nb_condense.widgets._bundle import BUNDLE
from nb_condense.widgets._protocol import COMMANDS
from nb_condense.widgets.chart import ChartWidget

PIPE_MODEL = JS / "test-support" / "pipe_model.js"  # the model's custom messages over stdio
SPEC = {"mark": "point", "data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x", "type": "quantitative"}}}


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
    with subprocess.Popen([node(), str(PIPE_MODEL), COMMANDS[name]], stdin=subprocess.PIPE,
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

