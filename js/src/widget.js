// CondensationExplorer's front end: controls + a chart drawn from Vega-Lite specs made in Python.
// It never computes statistics: choices go to Python as trait changes (debounced, one request per burst),
// Python answers with a spec; answers to superseded requests are dropped.
import "./widget.css";
import { ChartPane } from "./chart.js";
import { renderChart } from "./chart_only.js";
import { buildControls } from "./controls.js";
import { debounce, download, h, requestId } from "./util.js";

const CHOICES = ["model", "layers", "samples", "view"];
const STATE = ["_views", "_models", "_layer_options", "_sample_options", "status", "_progress", "error", "_answered"];

function render({ model, el }) {
  if (model.get("_mode") === "chart") return renderChart({ model, el });  // ChartWidget: one chart, no controls
  const pending = {};
  let lastSent = model.get("_request") ?? 0;
  let renderedRevision = -1;
  const current = (name) => (name in pending ? pending[name] : model.get(name));

  const commit = debounce(
    () => {
      const names = Object.keys(pending);
      if (!names.length) return;
      for (const name of names) {
        model.set(name, pending[name]);
        delete pending[name];
      }
      lastSent = (model.get("_request") ?? 0) + 1;
      model.set("_request", lastSent);
      model.save_changes();
      refresh();
    },
    () => model.get("debounce_wait") ?? 0,
  );

  const choose = (name, value) => {
    pending[name] = value;
    refresh();
    commit();
  };

  // requests answered by Python with custom messages ({id, ...} or {id, error})
  const waiting = new Map();
  const onMessage = (msg) => {
    const entry = waiting.get(msg?.id);
    if (!entry) return;
    waiting.delete(msg.id);
    if (msg.error) entry.reject(new Error(msg.error));
    else entry.resolve(msg);
  };
  model.on("msg:custom", onMessage);
  const ask = (content) =>
    new Promise((resolve, reject) => {
      const id = requestId();
      waiting.set(id, { resolve, reject });
      model.send({ ...content, id });
    });

  let localError = "";
  const showLocalError = (message) => {
    localError = message;
    refresh();
  };
  const baseName = () => `${current("model") || "chart"}-${current("view")}`.replace(/[^\w.-]+/g, "_");
  async function act(action) {
    try {
      if (action === "dismiss") {
        localError = "";
        if (model.get("error")) {
          model.set("error", "");
          model.save_changes();
        }
        refresh();
      } else if (action === "csv") {
        const reply = await ask({ type: "csv" });
        download(reply.filename, new Blob([reply.content], { type: "text/csv" }));
      } else {
        const image = await chart.image(action);
        const name = `${baseName()}.${action}`;
        download(name, action === "svg" ? new Blob([image], { type: "image/svg+xml" }) : image);
      }
    } catch (error) {
      showLocalError(`Export failed: ${error.message ?? error}`);
    }
  }

  const controls = buildControls({ current, choose, act });
  const chartBox = h("div", { className: "nbc-chart", "aria-live": "polite" });
  const root = h("div", { className: "nbc-explorer" }, [
    controls.toolbar,
    controls.status,
    controls.errorBox,
    h("div", { className: "nbc-body" }, [controls.side, chartBox]),
  ]);
  el.replaceChildren(root);

  const chart = new ChartPane(chartBox, {
    onLayerClick: (layer, additive) => {
      const layers = current("layers");
      if (!additive) choose("layers", [layer]);
      else choose("layers", layers.includes(layer) ? layers.filter((l) => l !== layer) : [...layers, layer].sort((a, b) => a - b));
    },
    onRendered: (revision) => root.dispatchEvent(new CustomEvent("nbc:rendered", { detail: { revision }, bubbles: true })),
    onError: showLocalError,
  });

  function refresh() {
    controls.update({
      views: model.get("_views") ?? [],
      models: model.get("_models") ?? [],
      layerOptions: model.get("_layer_options") ?? [],
      sampleOptions: model.get("_sample_options") ?? [],
      status: model.get("status"),
      progress: model.get("_progress") ?? 0,
      error: model.get("error") || localError,
    });
    const busy = Object.keys(pending).length > 0 || (model.get("_answered") ?? 0) < lastSent || model.get("status") === "measuring";
    root.dataset.status = model.get("status");
    chartBox.classList.toggle("nbc-busy", busy);
  }

  let scheduled = false;
  const draw = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      refresh();
      if ((model.get("_answered") ?? 0) < lastSent) return; // a newer request is on its way
      const revision = model.get("_revision");
      const spec = model.get("_spec");
      if (revision === renderedRevision || !spec || !Object.keys(spec).length) return;
      renderedRevision = revision;
      localError = "";
      chart.show(spec, revision, { clickable: model.get("view") === "heatmap" });
    });
  };

  const listeners = [
    ...CHOICES.map((name) => [`change:${name}`, refresh]),
    ...STATE.map((name) => [`change:${name}`, draw]),
    ["change:_spec", draw],
    ["change:_revision", draw],
  ];
  for (const [event, callback] of listeners) model.on(event, callback);
  draw();

  return () => {
    commit.cancel();
    for (const [event, callback] of listeners) model.off(event, callback);
    model.off("msg:custom", onMessage);
    chart.finalize();
  };
}

export default { render };
