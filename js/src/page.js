// The explorer without a kernel (a page saved by nb_condense.save_explorer): a local stand-in for the widget's
// model. Where Python would answer a control change, it picks the spec Python declared for the model and view
// and sets that spec's params (the chosen texts and layers); the Vega dataflow Python declared does the rest.

/** Rows from a table stored as columns ({name: [values...]}). */
function rows(columns) {
  const names = Object.keys(columns);
  const n = columns[names[0]]?.length ?? 0;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = {};
    for (const name of names) row[name] = columns[name][i];
    out[i] = row;
  }
  return out;
}

export function pageModel(payload) {
  const models = new Map(payload.models.map((m) => [m.name, m]));
  const cache = new Map(); // model name -> {histograms: rows, tokens: rows}
  const datasets = (m) => {
    if (!cache.has(m.name)) cache.set(m.name, Object.fromEntries(Object.entries(m.data).map(([k, v]) => [k, rows(v)])));
    return cache.get(m.name);
  };
  const first = payload.models[0];
  const state = {
    model: first.name, layers: [], samples: [], view: "heatmap", debounce_wait: 0, status: "idle", error: "",
    _views: payload.views, _models: payload.models.map((m) => m.name), _layer_options: first.layer_options,
    _sample_options: first.sample_options, _spec: {}, _revision: 0, _request: 0, _answered: 0, _progress: 0,
    _data: {}, _inline: null, _params: null,
  };
  const handlers = {};
  let key = null;

  function paramsFor(m) {
    const last = m.layer_options[m.layer_options.length - 1].layer;
    const layer = state.layers.length ? state.layers[0] : last;
    const position = Math.max(0, m.layer_options.findIndex((o) => o.layer === layer));
    return { samples: state.samples, layers: state.layers, sample: state.samples[0] ?? 0, layer, layer_position: position };
  }

  /** What the kernel would do on a request: validate, choose the spec, set its params. */
  function answer() {
    const changed = new Set(["_answered", "_params"]);
    const m = models.get(state.model);
    const known = new Set(m.layer_options.map((o) => o.layer));
    state.layers = state.layers.filter((l) => known.has(l));
    state.samples = state.samples.filter((s) => s < m.sample_options.length);
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
      state._layer_options = m.layer_options;
      state._sample_options = m.sample_options;
      for (const name of ["_spec", "_revision", "_inline", "_layer_options", "_sample_options", "status", "error"]) changed.add(name);
    }
    state._params = paramsFor(m);
    state._answered = state._request;
    for (const name of ["layers", "samples", ...changed]) for (const callback of handlers[`change:${name}`] ?? []) callback();
  }

  const model = {
    get: (name) => state[name],
    set: (name, value) => {
      state[name] = value;
    },
    save_changes: () => queueMicrotask(answer),
    on: (event, callback) => (handlers[event] ??= []).push(callback),
    off: (event, callback) => {
      handlers[event] = (handlers[event] ?? []).filter((c) => c !== callback);
    },
    send: (message) => {
      if (message?.type === "csv") {
        queueMicrotask(() => {
          for (const callback of handlers["msg:custom"] ?? []) {
            callback({ id: message.id, error: "CSV export needs the notebook's kernel: use PNG or SVG here." }, []);
          }
        });
      }
    },
  };
  answer(); // the first chart
  return model;
}
