// The explorer without a kernel (a page saved by nb_condense.save_page): a local stand-in for the widget's model.
// Where Python would answer a control change, it picks the spec Python declared for the model and view and sets
// that spec's params (the chosen texts and layers); the Vega dataflow Python declared does the rest, the tokens
// view's default text and layer included. The controls' options are the explorer's own state for each model
// (nb_condense.widgets._protocol.explorer_state), embedded by Python.
import { REQUEST, RESPONSE } from "./command.js";
import { defaults, PROTOCOL } from "./protocol.js";
import { tableCsv } from "./table.js";

/** What the page says when it describes another choice than the reader's (`name`: the title of the one described). */
const notYours = (/** @type {string} */ name) =>
  `(This description and the data table describe “${name}”, not your choice: a saved page holds them for all texts or one text, and all layers or one layer; the chart shows your choice.)`;

/** The key of a choice in the page's precomputed texts (Python's `page.choice_key`). */
const choiceKey = (/** @type {number[]} */ layers, /** @type {number[]} */ samples) =>
  `${layers.join(",")}|${samples.join(",")}`;

/** A chosen list the page holds texts for (none: all, or one), else none (all). */
const held = (/** @type {number[]} */ chosen) => (chosen.length <= 1 ? chosen : []);

/**
 * Rows from a table stored as columns ({name: [values...]}).
 * @param {Record<string, any[]>} columns The table's columns.
 * @returns {Record<string, any>[]} Its rows.
 */
function rows(columns) {
  const names = Object.keys(columns);
  const n = columns[names[0]]?.length ?? 0;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    /** @type {Record<string, any>} */
    const row = {};
    for (const name of names) row[name] = columns[name][i];
    out[i] = row;
  }
  return out;
}

/**
 * The page's stand-in for an anywidget model: `get`/`set`/`on`/`off`/`save_changes`, and `send`, which answers the
 * commands' requests (command.js) with `msg:custom` messages, as Python would.
 * @param {{models: {name: string, state: Record<string, any>, specs: Record<string, any>, data: Record<string, Record<string, any[]>>, texts?: Record<string, any>}[], trend: any, trend_text?: any}} payload
 *   What Python embedded: per model the explorer's state, the declared specs and the data; the trend's spec.
 * @returns {any} The model.
 */
export function pageModel(payload) {
  const models = new Map(payload.models.map((m) => [m.name, m]));
  /** @type {Map<string, Record<string, any[]>>} */
  const cache = new Map(); // model name -> {histograms: rows, tokens: rows}
  const datasets = (/** @type {any} */ m) => {
    if (!cache.has(m.name)) cache.set(m.name, Object.fromEntries(Object.entries(m.data).map(([k, v]) => [k, rows(v)])));
    return /** @type {Record<string, any[]>} */ (cache.get(m.name));
  };
  const first = payload.models[0];
  /** @type {Record<string, any>} */
  const state = {
    ...defaults("explorerChoices", "explorerState", "pageState"), // as a new explorer starts (protocol.json)
    ...first.state,
    model: first.name,
    view: first.state._views[0].value, // the explorer's default view is its first
    debounce_wait: 0, // nothing to wait for: the page answers at once
  };
  /** @type {Record<string, ((...args: any[]) => void)[]>} */
  const handlers = {};
  /** @type {string | null} */
  let key = null;

  /** What the kernel would do on a request: keep the choices the model offers, choose the spec, set its params. */
  function answer() {
    const changed = new Set(["_params"]);
    const m = /** @type {any} */ (models.get(state.model));
    // the chosen layers and samples that the model's options (Python's) hold, as explorer._on_model keeps them
    const layers = new Set(m.state._layer_options.map((/** @type {any} */ o) => o.layer));
    const samples = new Set(m.state._sample_options.map((/** @type {any} */ o) => o.sample));
    state.layers = state.layers.filter((/** @type {number} */ l) => layers.has(l));
    state.samples = state.samples.filter((/** @type {number} */ s) => samples.has(s));
    const newKey = `${state.model}\u0000${state.view}`;
    if (newKey !== key) {
      key = newKey;
      const spec = state.view === "trend" ? payload.trend : m.specs[state.view];
      state.error = spec ? "" : "This page has no per-token data for this model.";
      state.status = spec ? "idle" : "error";
      if (spec) {
        state._spec = spec;
        state._revision += 1;
        const name = spec.data?.name; // the one dataset the spec reads (the trend's rows come inline)
        const own = state.view === "trend" || !name ? {} : { [name]: datasets(m)[name] };
        state._inline = { revision: state._revision, datasets: own };
      }
      Object.assign(state, m.state);
      for (const name of ["_spec", "_revision", "_inline", "status", "error", ...Object.keys(m.state)])
        changed.add(name);
    }
    state._params = { samples: state.samples, layers: state.layers };
    describe(m);
    for (const name of ["layers", "samples", "description", "table", ...changed])
      for (const callback of handlers[`change:${name}`] ?? []) callback();
  }

  /**
   * The view's text alternative and data table for the reader's choice, picked from what Python precomputed (all
   * texts or one, all layers or one; page.py `_page_texts`): nothing is computed here. The Tokens table's rows are
   * the chosen text's per-token means at the chosen layer, as the page carries them. Another choice gets the
   * nearest held one (all texts, all layers), named in the description.
   */
  function describe(/** @type {any} */ m) {
    const text = state.view === "trend" ? { ...payload.trend_text, exact: true } : viewText(m);
    if (!text) {
      state.description = "";
      state.table = {};
    } else if (!text.exact) {
      const note = notYours(text.name);
      state.description = `${text.summary} ${note}`;
      state.table = { ...text, name: `${text.name} ${note}`, note };
    } else {
      state.description = text.summary;
      state.table = text;
    }
    delete state.table.exact;
  }

  /** The precomputed text and table of the chosen view, model and choice, and whether it is the reader's choice. */
  function viewText(/** @type {any} */ m) {
    const texts = m.texts?.[state.view];
    if (!texts) return null;
    const layers = held(state.layers);
    const samples = held(state.samples);
    if (state.view === "heatmap") {
      const text = texts.texts[choiceKey([], samples)];
      return { ...text, exact: samples.length === state.samples.length };
    }
    if (state.view === "distributions") {
      const { columns, rows } = texts.tables[choiceKey([], samples)];
      const at = columns.indexOf("Layer");
      const picked = layers.length ? rows.filter((/** @type {any[]} */ r) => r[at] === layers[0]) : rows;
      const exact = layers.length === state.layers.length && samples.length === state.samples.length;
      return { ...texts.texts[choiceKey(layers, samples)], columns, rows: picked, exact };
    }
    // tokens: one text at one layer (the defaults when none is chosen), the rows from the page's token data
    const sample = state.samples[0] ?? texts.default.sample;
    const layer = state.layers[0] ?? texts.default.layer;
    const k = texts.layers.indexOf(layer);
    const rows = datasets(m).tokens.filter((/** @type {any} */ r) => r.text === sample);
    return {
      ...texts.texts[choiceKey([layer], [sample])],
      columns: texts.columns,
      rows: rows.map((/** @type {any} */ r) => [r.position, r.token, r.means[k]]),
      exact: true,
    };
  }

  /** @type {Record<string, (msg: any) => any>} The commands, by Python's method name, answered here. */
  const commands = {
    [PROTOCOL.commands.answer]: () => {
      answer();
      return {};
    },
    [PROTOCOL.commands.sync]: () => ({}),
    // the page exports the numbers it carries: the data table Python precomputed for the view
    [PROTOCOL.commands.csv]: () =>
      state.table?.columns?.length
        ? { csv: tableCsv(state.table) }
        : { error: "This view has no data table on this page: use PNG or SVG here." },
  };

  const model = {
    get: (/** @type {string} */ name) => state[name],
    set: (/** @type {string} */ name, /** @type {any} */ value) => {
      state[name] = value;
    },
    save_changes: () => {}, // the answer command that follows answers the changes
    on: (/** @type {string} */ event, /** @type {(...args: any[]) => void} */ callback) => {
      handlers[event] = [...(handlers[event] ?? []), callback];
    },
    off: (/** @type {string} */ event, /** @type {(...args: any[]) => void} */ callback) => {
      handlers[event] = (handlers[event] ?? []).filter((c) => c !== callback);
    },
    /** A command's request, answered after the current task (as a kernel's answer arrives). */
    send: (/** @type {any} */ content) => {
      if (content?.kind !== REQUEST) throw new Error(`This page cannot handle the message ${JSON.stringify(content)}.`);
      const command = commands[content.name];
      queueMicrotask(() => {
        const response = command ? command(content.msg) : { error: `This page cannot answer ${content.name}.` };
        for (const callback of handlers["msg:custom"] ?? []) callback({ id: content.id, kind: RESPONSE, response }, []);
      });
    },
  };
  answer(); // the first chart
  return model;
}
