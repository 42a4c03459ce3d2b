"""The widget protocol is defined once (nb_condense/widgets/protocol.json): Python and js/src/protocol.js read the
same names, a change to the file reaches both sides, each widget syncs exactly the traits the protocol lists with
the declared defaults, every command the front end names exists and answers, and the bundle travels with the
first widget a kernel displays (and every live view), not with each widget."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import anywidget
import pytest

from nb_condense.widgets import _protocol as protocol
from nb_condense.widgets._bundle import BUNDLE
from nb_condense.widgets.chart import ChartWidget, chart_mimebundle
from nb_condense.widgets.explorer import CondensationExplorer
from nb_condense.widgets.monitor import TrainingMonitor

JS = Path(__file__).resolve().parents[2] / "js"
SPEC = {"mark": "point", "data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x", "type": "quantitative"}}}


def js_protocol() -> dict:
    """The PROTOCOL object that js/src/protocol.js exports, as node evaluates it."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the JS protocol module cannot be read (install Node 20 to run this)")
    module = (JS / "src" / "protocol.js").as_uri()
    script = f"import({json.dumps(module)}).then((m) => console.log(JSON.stringify(m.PROTOCOL)))"
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_js_protocol_equals_pythons():
    js = js_protocol()
    python = {
        "kinds": protocol.KINDS, "shared": protocol.SHARED, "explorerChoices": protocol.EXPLORER_CHOICES,
        "explorerState": protocol.EXPLORER_STATE, "pageState": protocol.PAGE_STATE,
        "chartState": protocol.CHART_STATE, "monitorState": protocol.MONITOR_STATE,
        "monitorPanels": protocol.MONITOR_PANELS,
    }
    assert {name: js[name] for name in python} == {name: list(names) for name, names in python.items()}
    assert js["commands"] == protocol.COMMANDS
    assert js["messages"] == {"request": protocol.REQUEST, "response": protocol.RESPONSE, "cancel": protocol.CANCEL}
    assert set(js) == {*python, "commands", "messages"}  # nothing in JS that Python does not define


def own_synced(cls: type) -> set[str]:
    """The synced traits ``cls`` adds to anywidget's own."""
    return set(cls.class_trait_names(sync=True)) - set(anywidget.AnyWidget.class_trait_names(sync=True))


@pytest.mark.parametrize(("cls", "state"), [
    (CondensationExplorer, protocol.EXPLORER_CHOICES + protocol.EXPLORER_STATE),
    (ChartWidget, protocol.CHART_STATE),
    (TrainingMonitor, protocol.MONITOR_STATE),
], ids=["explorer", "chart", "monitor"])
def test_each_widget_syncs_exactly_the_traits_the_protocol_lists(cls, state):
    assert own_synced(cls) == set(protocol.SHARED) | set(state)
    assert set(cls._synced) == set(state)  # what the sync command re-sends
    assert not set(protocol.PAGE_STATE) & own_synced(cls)  # page-only keys are no traits


@pytest.mark.parametrize(("cls", "names"), [
    (CondensationExplorer, ("bundle", "sync", "answer", "csv")),
    (ChartWidget, ("bundle", "sync")),
    (TrainingMonitor, ("bundle", "sync")),
], ids=["explorer", "chart", "monitor"])
def test_every_command_the_front_end_invokes_is_a_command_of_the_widget(cls, names):
    commands = cls.commands()  # what BundledWidget dispatches on
    assert {protocol.COMMANDS[name] for name in names} <= set(commands)
    assert not getattr(cls, "_anywidget_commands", {})  # one dispatcher: anywidget's would answer twice


def test_the_chart_widget_answers_bundle_and_sync_and_failures_become_errors(monkeypatch):
    from conftest import invoke

    widget = ChartWidget(SPEC)
    reply, buffers = invoke(widget, "bundle")
    assert reply == {"hash": widget._bundle_hash} and buffers == [BUNDLE.read_bytes()]
    states = []
    widget.send_state = lambda names=None: states.append(names)
    assert invoke(widget, "sync") == ({}, []) and states == [["spec", "description"]]

    def broken(names=None):
        raise OSError("the comm is closed")

    widget.send_state = broken
    assert invoke(widget, "sync") == ({"error": "OSError: the comm is closed"}, [])


def test_the_first_widget_displayed_carries_the_bundle_later_ones_do_not(monkeypatch):
    monkeypatch.setitem(protocol._shipped, "done", False)  # a fresh kernel
    code = BUNDLE.read_bytes()
    first, second = ChartWidget(SPEC), ChartWidget(SPEC)
    assert first._bundle == second._bundle == b""  # made, not displayed: nothing travels
    second._repr_mimebundle_()
    first._repr_mimebundle_()
    assert second._bundle == code and first._bundle == b""
    rendered = chart_mimebundle(SPEC, fallback=None)  # Altair's renderer: a later chart carries nothing
    (model_id,) = [v["model_id"] for k, v in rendered.items() if k.endswith("widget-view+json")]
    from ipywidgets.widgets.widget import _instances

    assert _instances[model_id]._bundle == b""
    assert TrainingMonitor()._bundle == code  # the live view always carries it: it draws while its cell runs


@pytest.mark.parametrize(("cls", "groups"), [
    (CondensationExplorer, ("shared", "explorerChoices", "explorerState")),
    (ChartWidget, ("chartState",)),
    (TrainingMonitor, ("monitorState",)),
], ids=["explorer", "chart", "monitor"])
def test_each_trait_starts_at_its_declared_default(cls, groups):
    declared = {t["name"]: t["default"] for g in json.loads(protocol.PROTOCOL_FILE.read_text())["groups"]
                if g["name"] in groups for t in g["traits"]}
    traits = cls.class_traits()
    own = {name: traits[name].default() for name in declared}
    if "_bundle" in own:
        own["_bundle"] = own["_bundle"].decode()
    assert own == declared


def copy_tree(target: Path) -> Path:
    """The package and js/src copied to ``target`` (to change the protocol there); returns the protocol's path."""
    root = JS.parent
    shutil.copytree(root / "nb_condense", target / "nb_condense", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(JS / "src", target / "js" / "src")
    return target / "nb_condense" / "widgets" / "protocol.json"


PYTHON_SIDE = """
import json
from nb_condense.widgets import _protocol
from nb_condense.widgets.explorer import CondensationExplorer
traits = CondensationExplorer.class_traits()
print(json.dumps({"progress": traits["_progress"].default_value, "wait": traits["debounce_wait"].default_value,
                  "timeout": _protocol.TIMEOUTS_MS["answer"], "cancel": _protocol.CANCEL,
                  "state": list(_protocol.EXPLORER_STATE)}))
"""

JS_SIDE = """
const { PROTOCOL, TIMEOUT_MS } = await import(%s);
const { CANCEL } = await import(%s);
const { pageModel } = await import(%s);
const state = { _views: [{ value: "heatmap" }], _models: ["m"], _layer_options: [], _sample_options: [] };
const model = pageModel({ models: [{ name: "m", state, specs: { heatmap: null }, data: {} }], trend: null });
console.log(JSON.stringify({ progress: model.get("_progress"), timeout: TIMEOUT_MS.answer, cancel: CANCEL,
  state: PROTOCOL.explorerState }));
"""


def test_a_change_to_the_protocol_file_reaches_python_and_the_front_end(tmp_path):
    path = copy_tree(tmp_path)
    declared = json.loads(path.read_text())
    (state,) = [g for g in declared["groups"] if g["name"] == "explorerState"]
    for trait in state["traits"]:
        if trait["name"] == "_progress":
            trait["default"] = 0.25
        if trait["name"] == "debounce_wait":
            trait["default"] = 75
    state["traits"].append({"name": "_extra", "writer": ["Py"], "reader": ["JS"], "default": 1, "meaning": "new"})
    (answer,) = [c for c in declared["commands"] if c["name"] == "answer"]
    answer["timeoutMs"] = 1234
    declared["messages"]["cancel"] = "changed-cancel"
    path.write_text(json.dumps(declared))
    expected_state = [*protocol.EXPLORER_STATE, "_extra"]

    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", PYTHON_SIDE], capture_output=True, text=True, env=env, timeout=120,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"progress": 0.25, "wait": 75, "timeout": 1234, "cancel": "changed-cancel",
                                      "state": expected_state}

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the JS side cannot be read (install Node 20 to run this)")
    src = tmp_path / "js" / "src"
    script = JS_SIDE % tuple(json.dumps((src / name).as_uri()) for name in ("protocol.js", "command.js", "page.js"))
    run = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"progress": 0.25, "timeout": 1234, "cancel": "changed-cancel",
                                      "state": expected_state}
