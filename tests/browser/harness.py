"""The bundle rendered against a fake anywidget model (get/set/on/off/save_changes/send), no kernel; the state it
starts from is a real explorer's (:func:`state_for`), so a protocol drift fails here.

``FakeModel`` records every call; ``push(changes)`` plays Python setting traits, ``answer(command, response)``
plays Python answering the oldest open request of ``command``: the custom message anywidget's command handler
sends back (``js/src/command.js`` sends the requests as custom messages).
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
  constructor(state) { this.state = state; this.handlers = {}; this.calls = []; this.requests = []; }
  get(name) { return this.state[name]; }
  set(name, value) { this.calls.push(["set", name, value]); this._change(name, value); }
  save_changes() { this.calls.push(["save_changes"]); }
  send(content, callbacks, buffers = []) {  // a command's request, or a hand-made message (recorded in calls)
    if (content?.kind === "anywidget-command") this.requests.push({ ...content, buffers, open: true });
    else this.calls.push(["send", content]);
  }
  on(event, callback) { (this.handlers[event] ??= []).push(callback); }
  off(event, callback) { this.handlers[event] = (this.handlers[event] ?? []).filter((c) => c !== callback); }
  _change(name, value) {
    this.state[name] = value;
    for (const callback of this.handlers[`change:${name}`] ?? []) callback(this, value);
  }
  push(changes) { for (const [name, value] of Object.entries(changes)) this._change(name, value); }
  answer(name, response, buffers = []) {
    const request = this.requests.find((r) => r.name === name && r.open);
    if (!request) throw new Error(`no open request of ${name}`);
    request.open = false;
    const reply = { id: request.id, kind: "anywidget-command-response", response };
    for (const callback of [...(this.handlers["msg:custom"] ?? [])]) callback(reply, buffers);
  }
  invoked(name) { return this.requests.filter((r) => r.name === name).map(({ msg }) => ({ msg })); }
  sets(name) { return this.calls.filter((c) => c[0] === "set" && c[1] === name).map((c) => c[2]); }
  saves() { return this.calls.filter((c) => c[0] === "save_changes").length; }
}
"""

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="/widget.css"><style>__STYLE__</style></head>
<body><div id="host"></div>
<script type="module">
import widget from "/widget.js";
__FAKE_MODEL__
window.model = new FakeModel(__STATE__);
window.cleanup = widget.render({ model: window.model, el: document.getElementById("host") });
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
  loader.render({ model, el: document.getElementById(id) });
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


def open_harness(page: Any, state: dict[str, Any], style: str = "", synced: bool = True) -> None:
    """Serve the harness with ``state`` as the fake model's traits (and CSS ``style``, e.g. a notebook theme's
    variables) and wait until ``render`` ran; with ``synced``, answer the view's ``sync`` as an idle kernel does
    (the explorer and the live view ask it; an explorer sends no choice before it is answered)."""
    _serve(page, PAGE.replace("__FAKE_MODEL__", FAKE_MODEL).replace("__STATE__", json.dumps(state))
           .replace("__STYLE__", style))
    if synced and state.get("_kind") != "chart":
        page.evaluate(f"window.model.answer('{COMMANDS['sync']}', {{}})")


def open_loader_harness(page: Any) -> None:
    """Serve a page with the loader only: ``window.show(id, state)`` renders a widget through it (``window.code``
    is the bundle as the ``_bundle`` trait would hold it)."""
    _serve(page, LOADER_PAGE.replace("__FAKE_MODEL__", FAKE_MODEL))


VEGA_MARKS = """(selector) => {
    // Every mark of the Vega view drawn in `selector` (its scenegraph: canvas or SVG alike), with its items'
    // data, colours and page coordinates (the view's origin and the enclosing groups' offsets added).
    const host = document.querySelector(selector);
    const view = host?.vegaView;
    if (!view) return null;
    const canvas = host.querySelector('.nbc-vega canvas, .nbc-vega svg');
    const box = canvas.getBoundingClientRect();
    const [ox, oy] = view.origin();
    const plain = (datum) => Object.fromEntries(Object.entries(datum ?? {})
        .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v)));
    const marks = [];
    const walk = (mark, x0, y0) => {
        const items = mark.items.map((item) => ({
            datum: plain(item.datum), opacity: item.opacity ?? 1, fill: item.fill ?? null, text: item.text ?? null,
            stroke: item.stroke ?? null, fillOpacity: item.fillOpacity ?? 1,
            x: box.left + ox + x0 + (item.x ?? 0), y: box.top + oy + y0 + (item.y ?? 0),
            width: item.width ?? 0, height: item.height ?? 0,
            bounds: item.bounds ? [box.left + ox + x0 + item.bounds.x1, box.top + oy + y0 + item.bounds.y1,
                                   box.left + ox + x0 + item.bounds.x2, box.top + oy + y0 + item.bounds.y2] : null,
        }));
        marks.push({role: mark.role, marktype: mark.marktype, name: mark.name ?? null, items});
        if (mark.marktype === 'group') {
            for (const item of mark.items) for (const child of item.items ?? []) {
                walk(child, x0 + (item.x ?? 0), y0 + (item.y ?? 0));
            }
        }
    };
    walk(view.scenegraph().root, 0, 0);
    return marks;
}"""
"""JS: the marks of the Vega view in an element (``.nbc-chart``, ``.nbc-chart-only``), read from the view."""


def vega_items(page: object, selector: str, marktype: str, role: str = "mark") -> list[dict]:
    """The items of every ``marktype`` mark of ``role`` in the Vega view drawn in ``selector``."""
    marks = page.evaluate(VEGA_MARKS, selector) or []
    return [item for mark in marks if mark["marktype"] == marktype and mark["role"] == role for item in mark["items"]]
