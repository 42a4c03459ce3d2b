// Small helpers with no DOM or model knowledge.

/** Call `fn` once, `wait` ms after the last call (wait <= 0: on the next microtask). */
export function debounce(fn, wait) {
  let timer = null;
  let queued = null; // the arguments of a call waiting for the microtask
  const debounced = (...args) => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const delay = wait();
    if (delay <= 0) {
      // still inside the user's event: hosts that send a widget's changes only from an event (marimo) send it now
      if (queued === null) {
        queueMicrotask(() => {
          const latest = queued;
          queued = null;
          if (latest !== null) fn(...latest);
        });
      }
      queued = args;
      return;
    }
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, delay);
  };
  debounced.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    queued = null;
  };
  return debounced;
}

/** Create an element with attributes, properties ("on*" handlers, "text") and children. */
export function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** Offer `blob` as a download named `filename`. */
export function download(filename, blobOrUrl) {
  const url = typeof blobOrUrl === "string" ? blobOrUrl : URL.createObjectURL(blobOrUrl);
  const link = h("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  if (typeof blobOrUrl !== "string") setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Sorted copy of a list of integers without duplicates. */
export function sortedUnique(values) {
  return [...new Set(values)].sort((a, b) => a - b);
}

/** The layer and sample a view that shows one of each draws: the first chosen (the last layer, sample 0). */
export function drawnOne({ layers, samples, layerOptions }) {
  const last = layerOptions.length ? layerOptions[layerOptions.length - 1].layer : null;
  return { layer: layers.length ? layers[0] : last, sample: samples.length ? samples[0] : 0 };
}

/** A download's file stem: model, view, samples and layers drawn (safe characters only). */
export function exportName({ model, view, layers, samples, layerOptions, views }) {
  const spec = views.find((v) => v.value === view) ?? {};
  const off = spec.off ?? {};
  const list = (values) => (values.length ? values.join("-") : "all");
  let parts;
  if ((spec.single ?? []).length) {
    const one = drawnOne({ layers, samples, layerOptions });
    parts = [`sample${one.sample}`, `layer${one.layer}`];
  } else {
    parts = [];
    if (!off.samples) parts.push(`samples-${list(samples)}`);
    if (!off.layers) parts.push(`layers-${list(layers)}`);
  }
  return [model || "chart", view, ...parts]
    .join("_")
    .replace(/[^\w.-]+/g, "_")
    .replace(/_+/g, "_");
}
