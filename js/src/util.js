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

/** A unique id for a request to Python. */
export function requestId() {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(16).slice(2)}`;
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
