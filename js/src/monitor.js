// TrainingMonitor's front end: three chart panes fed by Python while a training runs in the same cell. Each
// pane gets its spec once, then only new rows for its dataset (swapped into the drawn view). It never computes.
import { ChartPane, followTheme } from "./chart.js";
import { ask, PROTOCOL } from "./protocol.js";
import { h } from "./util.js";

/** @type {Record<string, string>} Each panel's accessible label (the panels and their order are Python's). */
const LABELS = {
  losses: "Training losses",
  means: "Mean cosine per layer vs step",
  heatmap: "Latest condensation measurement",
};

/**
 * Draw the live training view into `el`; returns the cleanup function.
 * @param {{model: import("@anywidget/types").AnyModel<any>, el: HTMLElement, invoke: import("./command.js").Invoke}} props
 * @returns {() => void} The cleanup.
 */
export function renderMonitor({ model, el, invoke }) {
  // the summary changes every step: shown, not announced; the live region says only when the run is done
  const summary = h("div", { className: "nbc-monitor-summary" });
  const announcer = h("div", { className: "nbc-announce nbc-sr-only", role: "status", "aria-live": "polite" });
  const alert = h("div", { className: "nbc-error", role: "alert", hidden: true });
  const root = h("div", { className: "nbc-monitor" });
  const panes = {};
  const boxes = PROTOCOL.monitorPanels.map((name) => {
    const box = h("div", {
      className: "nbc-chart nbc-panel",
      role: "group",
      "data-panel": name,
      "aria-label": LABELS[name] ?? name,
    });
    panes[name] = new ChartPane(box, {
      onLayerClick: () => {},
      onRendered: (detail) =>
        root.dispatchEvent(new CustomEvent("nbc:rendered", { detail: { ...detail, panel: name }, bubbles: true })),
      onError: (message) => {
        alert.textContent = message;
        alert.hidden = false;
      },
    });
    return box;
  });
  root.replaceChildren(summary, announcer, alert, h("div", { className: "nbc-panels" }, boxes));
  el.replaceChildren(root);
  const stopTheme = followTheme(root);

  const shown = {}; // panel -> revision embedded (or being embedded)
  const latest = {}; // panel -> newest rows update from Python
  const applied = {}; // panel -> seq of the rows drawn
  const applyRows = (name) => {
    const data = latest[name];
    if (!data || applied[name] === data.seq || panes[name].revision !== data.revision) return;
    applied[name] = data.seq;
    panes[name].setData(data.name, JSON.parse(data.values));
  };
  let announced = model.get("status") === "done"; // a finished run drawn again is not announced again
  const refresh = () => {
    summary.textContent = model.get("summary") || "Waiting for the first training step…";
    if (model.get("status") === "done" && !announced) {
      announced = true;
      announcer.textContent = `Training done at step ${model.get("step")}.`;
    } else if (model.get("status") !== "done") announced = false;
    root.dataset.status = model.get("status");
    root.dataset.step = String(model.get("step"));
  };
  const onPanels = () => {
    for (const [name, { spec, revision }] of Object.entries(model.get("_panels") ?? {})) {
      if (shown[name] === revision || !panes[name]) continue;
      shown[name] = revision;
      panes[name].show(spec, revision, {}).then((ok) => ok && applyRows(name));
    }
  };
  const describe = () => {
    const texts = model.get("descriptions") ?? {};
    for (const [name, pane] of Object.entries(panes)) pane.describe(texts[name] ?? "");
  };
  const onData = () => {
    const data = model.get("_data");
    if (!data?.panel || !panes[data.panel]) return;
    latest[data.panel] = data;
    applyRows(data.panel);
  };
  /** @type {[string, () => void][]} */
  const listeners = [
    ["change:summary", refresh],
    ["change:status", refresh],
    ["change:step", refresh],
    ["change:_panels", onPanels],
    ["change:_data", onData],
    ["change:descriptions", describe],
  ];
  for (const [event, callback] of listeners) model.on(event, callback);
  refresh();
  onPanels();
  onData();
  describe();
  ask(invoke, "sync").catch((error) => {
    if (error.timeout)
      console.warn(`nb_condense: ${error.message}`); // a busy kernel: the state still arrives
    else {
      alert.textContent = error.message ?? String(error);
      alert.hidden = false;
    }
  });
  return () => {
    for (const [event, callback] of listeners) model.off(event, callback);
    stopTheme();
    for (const pane of Object.values(panes)) pane.close();
  };
}
