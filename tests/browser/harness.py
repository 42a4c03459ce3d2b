"""The bundle rendered against a fake anywidget model (get/set/on/off/save_changes and ``experimental.invoke``),
no kernel; the state it starts from is a real explorer's (:func:`state_for`), so a protocol drift fails here.

``FakeModel`` records every call; ``push(changes)`` plays Python setting traits, ``answer(command, response)``
plays Python answering the oldest open invocation of ``command`` (anywidget's command API).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nb_condense.widgets._protocol import COMMANDS, EXPLORER_CHOICES, EXPLORER_STATE

STATIC = Path(__file__).resolve().parents[2] / "nb_condense" / "static"
ORIGIN = "http://127.0.0.1:9"  # never contacted: page.route answers everything under it

FAKE_MODEL = """
class FakeModel {
  constructor(state) { this.state = state; this.handlers = {}; this.calls = []; this.invocations = []; }
  get(name) { return this.state[name]; }
  set(name, value) { this.calls.push(["set", name, value]); this._change(name, value); }
  save_changes() { this.calls.push(["save_changes"]); }
  send(content) { this.calls.push(["send", content]); }
  on(event, callback) { (this.handlers[event] ??= []).push(callback); }
  off(event, callback) { this.handlers[event] = (this.handlers[event] ?? []).filter((c) => c !== callback); }
  _change(name, value) {
    this.state[name] = value;
    for (const callback of this.handlers[`change:${name}`] ?? []) callback(this, value);
  }
  push(changes) { for (const [name, value] of Object.entries(changes)) this._change(name, value); }
  invoke(name, msg, options = {}) {
    return new Promise((resolve, reject) => {
      this.invocations.push({ name, msg, signal: options.signal instanceof AbortSignal, resolve, reject, open: true });
    });
  }
  answer(name, response, buffers = []) {
    const call = this.invocations.find((c) => c.name === name && c.open);
    if (!call) throw new Error(`no open invocation of ${name}`);
    call.open = false;
    call.resolve([response, buffers]);
  }
  invoked(name) { return this.invocations.filter((c) => c.name === name).map(({ msg, signal }) => ({ msg, signal })); }
  sets(name) { return this.calls.filter((c) => c[0] === "set" && c[1] === name).map((c) => c[2]); }
  saves() { return this.calls.filter((c) => c[0] === "save_changes").length; }
}
const experimental = (model) => ({ invoke: (name, msg, options) => model.invoke(name, msg, options) });
"""

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="/widget.css"><style>__STYLE__</style></head>
<body><div id="host"></div>
<script type="module">
import widget from "/widget.js";
__FAKE_MODEL__
window.model = new FakeModel(__STATE__);
window.cleanup = widget.render({ model: window.model, el: document.getElementById("host"),
                                 experimental: experimental(window.model) });
window.ready = true;
</script></body></html>"""

LOADER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="/widget.css"></head>
<body><div id="first"></div><div id="second"></div>
<script type="module">
import loader from "/loader.js";
__FAKE_MODEL__
window.FakeModel = FakeModel;
window.code = new DataView(await (await fetch("/widget.js")).arrayBuffer());
window.show = (id, state) => {
  const model = new FakeModel(state);
  loader.render({ model, el: document.getElementById(id), experimental: experimental(model) });
  return model;
};
window.ready = true;
</script></body></html>"""


def state_for(session: Any, **overrides: Any) -> dict[str, Any]:
    """The synced state of a real :class:`~nb_condense.CondensationExplorer` over ``session`` (as JSON, as the page
    receives it), with ``overrides`` playing later changes from Python."""
    from nb_condense import CondensationExplorer

    explorer = CondensationExplorer(session, background=False, debounce_wait=40)
    names = ("_kind", *EXPLORER_CHOICES, *EXPLORER_STATE)
    state = json.loads(json.dumps({name: getattr(explorer, name) for name in names}))
    state.update(overrides)
    return state


def command(name: str) -> str:
    """The name the front end invokes for the protocol's command ``name``."""
    return COMMANDS[name]


def _serve(page: Any, html: str) -> None:
    def handle(route: Any) -> None:
        path = route.request.url[len(ORIGIN):].split("?")[0]
        if path == "/harness.html":
            route.fulfill(status=200, content_type="text/html", body=html)
        elif path in ("/widget.js", "/widget.css", "/loader.js"):
            kind = "text/javascript" if path.endswith(".js") else "text/css"
            route.fulfill(status=200, content_type=kind, body=(STATIC / path[1:]).read_bytes())
        else:
            route.fulfill(status=404, body="")

    page.route(f"{ORIGIN}/**", handle)
    page.goto(f"{ORIGIN}/harness.html")
    page.wait_for_function("window.ready === true")


def open_harness(page: Any, state: dict[str, Any], style: str = "") -> None:
    """Serve the harness with ``state`` as the fake model's traits (and CSS ``style``, e.g. a notebook theme's
    variables) and wait until ``render`` ran."""
    _serve(page, PAGE.replace("__FAKE_MODEL__", FAKE_MODEL).replace("__STATE__", json.dumps(state))
           .replace("__STYLE__", style))


def open_loader_harness(page: Any) -> None:
    """Serve a page with the loader only: ``window.show(id, state)`` renders a widget through it (``window.code``
    is the bundle as the ``_bundle`` trait would hold it)."""
    _serve(page, LOADER_PAGE.replace("__FAKE_MODEL__", FAKE_MODEL))
