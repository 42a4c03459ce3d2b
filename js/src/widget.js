// The bundle's entry: it draws the widget `_kind` names. The explorer (below): controls + a chart drawn from
// Vega-Lite specs made in Python. It never computes statistics: choices go to Python as trait changes (debounced,
// one burst at a time) followed by the `answer` command; Python answers with a spec, or with new rows for the drawn
// chart's dataset (`_data`), or with nothing when only the heatmap's highlighted layers changed (the page writes
// the selection itself). Nothing is drawn while a newer answer is awaited, so answers to superseded choices are
// dropped. The protocol (every trait and command) is described in nb_condense/widgets/_protocol.py.
import "./widget.css";
import { ChartPane, followTheme } from "./chart.js";
import { renderChart } from "./chart_only.js";
import { buildControls } from "./controls.js";
import { renderMonitor } from "./monitor.js";
import { pageModel } from "./page.js";
import { buildDataTable, rowText } from "./table.js";
import { commandInvoke } from "./command.js";
import { ask, PROTOCOL } from "./protocol.js";
import { debounce, download, exportName, h } from "./util.js";

/**
 * Draw the widget that `model.get("_kind")` names into `el`; returns the cleanup function.
 * @param {{model: import("@anywidget/types").AnyModel<any>, el: HTMLElement}} props
 * @returns {() => void} The cleanup.
 */
function render({ model, el }) {
  const invoke = commandInvoke(model); // requests travel as custom messages in every host (command.js)
  const kind = model.get("_kind");
  if (kind === "monitor") return renderMonitor({ model, el, invoke });
  if (kind === "chart") return renderChart({ model, el }); // ChartWidget: one chart, no controls
  /** @type {Record<string, any>} */
  const pending = {};
  /** @type {Promise<unknown> | null} */
  let answering = null; // the answer awaited for the latest choices sent
  let renderedRevision = -1;
  // Choices wait (in `pending`, shown) until Python answered this view's `sync`: the state it re-sends would
  // otherwise overwrite a newer choice in the view while Python keeps the choice (marimo echoes no update back).
  let syncing = true;
  let disposed = false;
  const closing = new AbortController(); // closing the view gives its requests up (Python drops them)
  const current = (/** @type {string} */ name) => (name in pending ? pending[name] : model.get(name));

  const commit = debounce(
    () => {
      const names = Object.keys(pending);
      if (!names.length || syncing) return;
      for (const name of names) {
        model.set(name, pending[name]);
        delete pending[name];
      }
      model.save_changes();
      // Python answers the trait changes in order, so this answer arrives after everything they caused
      const asked = ask(invoke, "answer", {}, closing.signal);
      answering = asked;
      asked
        .catch((error) => disposed || showLocalError(error.message ?? String(error)))
        .finally(() => {
          if (answering !== asked || disposed) return; // a newer burst is awaited, or the view is gone
          answering = null;
          draw();
        });
      refresh();
    },
    () => model.get("debounce_wait") ?? 0,
  );

  const choose = (name, value) => {
    pending[name] = value;
    refresh();
    if (name === "layers") highlight(); // drawn at once; Python only records the choice
    commit();
  };

  let localError = "";
  const showLocalError = (message) => {
    localError = message;
    refresh();
  };
  const baseName = () =>
    exportName({
      model: current("model"),
      view: current("view"),
      layers: current("layers"),
      samples: current("samples"),
      layerOptions: model.get("_layer_options") ?? [],
      views: model.get("_views") ?? [],
    });
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
        // the open data table exports what it shows; else Python sends the drawn chart's tidy data
        const csv = dataTable.isOpen() ? dataTable.csv() : (await ask(invoke, "csv", {}, closing.signal))[0].csv;
        download(`${baseName()}${dataTable.isOpen() ? "-table" : ""}.csv`, new Blob([csv], { type: "text/csv" }));
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
  const dataTable = buildDataTable({ announce: controls.announce });
  controls.toolbar.append(dataTable.toggle);
  const showTable = () => dataTable.update(model.get("table") ?? {});
  const chartBox = h("div", { className: "nbc-chart", role: "tabpanel", tabindex: "0", id: controls.panelId });
  const root = h(
    "div",
    { className: "nbc-explorer", tabindex: "-1", role: "region", "aria-label": "Condensation explorer" },
    [
      controls.toolbar,
      controls.status,
      controls.errorBox,
      h("div", { className: "nbc-body" }, [controls.side, chartBox]),
      dataTable.region,
    ],
  );
  el.replaceChildren(root);
  const stopTheme = followTheme(root);
  const stopKeys = keepKeys(root);

  const chart = new ChartPane(chartBox, {
    onLayerClick: (layer, additive) => {
      const layers = current("layers");
      if (!additive) choose("layers", [layer]);
      else
        choose(
          "layers",
          layers.includes(layer) ? layers.filter((l) => l !== layer) : [...layers, layer].sort((a, b) => a - b),
        );
    },
    onRendered: (detail) => root.dispatchEvent(new CustomEvent("nbc:rendered", { detail, bubbles: true })),
    onError: showLocalError,
    onAnnounce: controls.announce,
    // the numbers a focused heatmap column's tooltips show, from the data table Python made for the view
    columnNumbers: (layer) => rowText(model.get("table") ?? {}, "Layer", layer),
  });
  const describe = () => chart.describe(model.get("description") ?? "");

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
    const busy = Object.keys(pending).length > 0 || answering !== null || model.get("status") === "measuring";
    const state = model.get("status");
    if (state !== lastStatus) {
      if (state === "measuring") controls.announce("Measuring…");
      else if (lastStatus === "measuring" && state === "idle") controls.announce("Done: the chart is drawn.");
      lastStatus = state;
    }
    root.dataset.status = state;
    chartBox.dataset.view = model.get("view");
    chartBox.classList.toggle("nbc-busy", busy);
    chartBox.setAttribute("aria-busy", String(busy));
    chart.columns = (model.get("_layer_options") ?? []).map((/** @type {any} */ o) => o.layer);
  }
  let lastStatus = model.get("status");

  const isHeatmap = () => model.get("view") === "heatmap";
  const highlight = () => {
    if (isHeatmap() && chart.revision === renderedRevision) chart.highlight(current("layers"));
  };
  let appliedData = null;
  let appliedInline = null;
  const applyData = async () => {
    // a page without a kernel: the spec's datasets come with it, its params follow the controls
    const inline = model.get("_inline");
    if (inline && inline.revision === chart.revision && appliedInline !== inline.revision) {
      appliedInline = inline.revision;
      for (const [name, rows] of Object.entries(inline.datasets)) await chart.setData(name, rows);
    }
    const params = model.get("_params");
    if (params && chart.revision === renderedRevision) await chart.setParams(params);
    const data = model.get("_data");
    if (!data?.name || data.seq === appliedData || data.revision !== chart.revision) return;
    appliedData = data.seq;
    chart.setData(data.name, JSON.parse(data.values));
  };

  let scheduled = false;
  const draw = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      refresh();
      if (answering !== null) return; // the answer to newer choices is on its way
      const revision = model.get("_revision");
      const spec = model.get("_spec");
      if (revision !== renderedRevision && spec && Object.keys(spec).length) {
        renderedRevision = revision;
        localError = "";
        const layers = isHeatmap() ? current("layers") : null;
        chart.show(spec, revision, { clickable: isHeatmap(), layers }).then((shown) => shown && applyData());
        return;
      }
      applyData();
    });
  };

  /** @type {[string, () => void][]} */
  const listeners = [
    ...PROTOCOL.explorerChoices.map((name) => /** @type {[string, () => void]} */ ([`change:${name}`, refresh])),
    ["change:layers", highlight],
    ["change:description", describe],
    ["change:table", showTable],
    ...[...PROTOCOL.explorerState, ...PROTOCOL.pageState].map(
      (name) => /** @type {[string, () => void]} */ ([`change:${name}`, draw]),
    ),
  ];
  for (const [event, callback] of listeners) model.on(event, callback);
  describe();
  showTable();
  draw();
  // ask Python for the whole state once this view exists: changes sent before it did are not lost
  ask(invoke, "sync", {}, closing.signal)
    .catch((error) => {
      if (disposed) return;
      if (error.timeout)
        console.warn(`nb_condense: ${error.message}`); // a busy kernel: the state still arrives
      else showLocalError(error.message ?? String(error));
    })
    .finally(() => {
      syncing = false;
      if (!disposed) commit(); // the choices made meanwhile
    });

  return () => {
    disposed = true;
    closing.abort();
    commit.cancel();
    for (const [event, callback] of listeners) model.off(event, callback);
    stopTheme();
    stopKeys();
    chart.close();
  };
}

/** Keys the explorer uses stay in it (JupyterLab and marimo would move the cell focus). Escape leaves any control
 * for the explorer's root; a second Escape hands the focus back to the host: the nearest focusable element around
 * the widget (in JupyterLab the notebook, whose arrow keys then move between cells again), else none. Escape goes
 * on to the host either way. */
const OWN_KEYS = new Set([
  "ArrowUp",
  "ArrowDown",
  "ArrowLeft",
  "ArrowRight",
  "Home",
  "End",
  "PageUp",
  "PageDown",
  " ",
  "Enter",
]);
function keepKeys(root) {
  const onKey = (/** @type {KeyboardEvent} */ event) => {
    if (event.key === "Escape") {
      const active = /** @type {Document | ShadowRoot} */ (root.getRootNode()).activeElement; // marimo: a shadow root
      if (active !== root) root.focus();
      else {
        const around = root.parentElement?.closest("[tabindex]");
        if (around instanceof HTMLElement) around.focus();
        else root.blur();
      }
      return;
    }
    if (OWN_KEYS.has(event.key) && !event.altKey && !event.metaKey) event.stopPropagation();
  };
  root.addEventListener("keydown", onKey);
  return () => root.removeEventListener("keydown", onKey);
}

/**
 * The explorer in a saved page (no kernel): see page.js. Returns the page's model, for tests.
 * @param {{el: HTMLElement, payload: any}} props The page's element and the payload Python embedded.
 * @returns {{model: any}} The page's stand-in model.
 */
function renderPage({ el, payload }) {
  const model = pageModel(payload);
  render({ model, el });
  return { model };
}

export default { render, renderPage };
