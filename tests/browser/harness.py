"""The bundle rendered against a fake anywidget model (get/set/on/off/save_changes/send), no kernel.

``FakeModel`` records every call; ``push(changes)`` plays Python setting traits, ``reply(msg)`` plays
Python answering a custom message.
"""

from __future__ import annotations

import json
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "nb_condense" / "static"
ORIGIN = "http://127.0.0.1:9"  # never contacted: page.route answers everything under it

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="/widget.css"><style>__STYLE__</style></head>
<body><div id="host"></div>
<script type="module">
import widget from "/widget.js";
class FakeModel {
  constructor(state) { this.state = state; this.handlers = {}; this.calls = []; this.sent = []; }
  get(name) { return this.state[name]; }
  set(name, value) { this.calls.push(["set", name, value]); this._change(name, value); }
  save_changes() { this.calls.push(["save_changes"]); }
  send(content) { this.sent.push(content); }
  on(event, callback) { (this.handlers[event] ??= []).push(callback); }
  off(event, callback) { this.handlers[event] = (this.handlers[event] ?? []).filter((c) => c !== callback); }
  _change(name, value) {
    this.state[name] = value;
    for (const callback of this.handlers[`change:${name}`] ?? []) callback(this, value);
  }
  push(changes) { for (const [name, value] of Object.entries(changes)) this._change(name, value); }
  reply(content) { for (const callback of this.handlers["msg:custom"] ?? []) callback(content, []); }
  sets(name) { return this.calls.filter((c) => c[0] === "set" && c[1] === name).map((c) => c[2]); }
  saves() { return this.calls.filter((c) => c[0] === "save_changes").length; }
}
window.model = new FakeModel(__STATE__);
window.cleanup = widget.render({ model: window.model, el: document.getElementById("host") });
window.ready = true;
</script></body></html>"""


def open_harness(page: object, state: dict, style: str = "") -> None:
    """Serve the harness with ``state`` as the fake model's traits (and CSS ``style``, e.g. a notebook theme's
    variables) and wait until ``render`` ran."""
    html = PAGE.replace("__STATE__", json.dumps(state)).replace("__STYLE__", style)

    def handle(route: object) -> None:
        path = route.request.url[len(ORIGIN):].split("?")[0]
        if path == "/harness.html":
            route.fulfill(status=200, content_type="text/html", body=html)
        elif path in ("/widget.js", "/widget.css"):
            kind = "text/javascript" if path.endswith(".js") else "text/css"
            route.fulfill(status=200, content_type=kind, body=(STATIC / path[1:]).read_bytes())
        else:
            route.fulfill(status=404, body="")

    page.route(f"{ORIGIN}/**", handle)
    page.goto(f"{ORIGIN}/harness.html")
    page.wait_for_function("window.ready === true")


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
