// The explorer's controls: plain DOM, native focusable elements, state read through `current(name)`.
import { drawnOne, h } from "./util.js";

let made = 0; // ids of the explorers' controls

/**
 * One Tab stop for a group of controls (roving tabindex): the arrow keys move between `items()`, Home and End go
 * to the ends; the item last focused keeps the group's one tabindex="0".
 * @param {HTMLElement} group The element holding the items.
 * @param {() => HTMLElement[]} items The group's items, in order.
 * @param {(item: HTMLElement) => void} [onMove] Called with the item moved to (a tab list selects it).
 */
export function roving(group, items, onMove) {
  /** @type {HTMLElement | null} */
  let active = null;
  const usable = () => items().filter((item) => !(/** @type {any} */ (item).disabled));
  const sync = () => {
    const all = items();
    const list = usable();
    if (!active || !list.includes(active))
      active =
        list.find(
          (i) =>
            i.getAttribute("aria-selected") === "true" ||
            i.getAttribute("aria-pressed") === "true" ||
            /** @type {any} */ (i).checked,
        ) ??
        list[0] ??
        null;
    for (const item of all) item.tabIndex = item === active ? 0 : -1;
  };
  group.addEventListener("focusin", (event) => {
    const item = usable().find((i) => i === event.target || i.contains(/** @type {Node} */ (event.target)));
    if (item) {
      active = item;
      sync();
    }
  });
  group.addEventListener("keydown", (event) => {
    const list = usable();
    const at = list.findIndex((i) => i === event.target || i.contains(/** @type {Node} */ (event.target)));
    if (at < 0) return;
    const to = {
      ArrowRight: (at + 1) % list.length,
      ArrowDown: (at + 1) % list.length,
      ArrowLeft: (at - 1 + list.length) % list.length,
      ArrowUp: (at - 1 + list.length) % list.length,
      Home: 0,
      End: list.length - 1,
    }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    active = list[to];
    sync();
    active.focus();
    onMove?.(active);
  });
  return sync;
}

/** Build the controls; `choose(name, value)` records a user choice, `act(name)` runs an action. */
export function buildControls({ current, choose, act }) {
  const id = `nbc-${++made}`;
  const panelId = `${id}-panel`;
  const modelSelect = h("select", {
    className: "nbc-model",
    "aria-label": "Model",
    onchange: (e) => choose("model", e.target.value),
  });
  const modelLabel = h("label", { className: "nbc-model-label" }, [h("span", { text: "Model" }), modelSelect]);

  // the views come from Python (trait _views: [{value, label, title}]); buttons are rebuilt when they change
  const viewGroup = h("div", { className: "nbc-views", role: "tablist", "aria-label": "View" });
  const syncViews = roving(
    viewGroup,
    () => /** @type {HTMLElement[]} */ ([...viewGroup.children]),
    (tab) => choose("view", tab.dataset.view), // selection follows focus
  );

  // one Tab stop (a toolbar: the arrow keys move between the formats)
  const exportGroup = h("div", { className: "nbc-export", role: "toolbar", "aria-label": "Export" }, [
    h("button", {
      type: "button",
      "data-export": "png",
      title: "Download the chart as PNG",
      text: "PNG",
      onclick: () => act("png"),
    }),
    h("button", {
      type: "button",
      "data-export": "svg",
      title: "Download the chart as SVG",
      text: "SVG",
      onclick: () => act("svg"),
    }),
    h("button", {
      type: "button",
      "data-export": "csv",
      title: "Download the chart's data as CSV (the data table's rows while the table is open)",
      text: "CSV",
      onclick: () => act("csv"),
    }),
  ]);

  const syncExport = roving(exportGroup, () => /** @type {HTMLElement[]} */ ([...exportGroup.children]));
  syncExport();

  const statusText = h("span", { className: "nbc-status-text" });
  const progress = h("progress", {
    className: "nbc-progress",
    max: "1",
    value: "0",
    "aria-label": "Measuring progress",
  });
  // what is said (measuring, done, the column focused): a polite live region; the visible status is not live
  const announcer = h("span", { className: "nbc-announce nbc-sr-only", role: "status", "aria-live": "polite" });
  const announce = (/** @type {string} */ text) => {
    // the same words twice are still said: the region is emptied first
    announcer.textContent = "";
    requestAnimationFrame(() => {
      announcer.textContent = text;
    });
  };
  const status = h("div", { className: "nbc-status" }, [statusText, progress, announcer]);
  const errorText = h("span", { className: "nbc-error-text" });
  const errorBox = h("div", { className: "nbc-error", role: "alert" }, [
    errorText,
    h("button", {
      type: "button",
      className: "nbc-dismiss",
      "aria-label": "Dismiss the error",
      text: "×",
      onclick: () => act("dismiss"),
    }),
  ]);

  const allLayers = h("button", {
    type: "button",
    className: "nbc-chip nbc-all",
    "data-layer": "all",
    title: "All layers",
    "aria-label": "All layers",
    text: "all",
    onclick: () => choose("layers", []),
  });
  const layerChips = h("div", { className: "nbc-chips" });
  const layerGroup = h("div", { className: "nbc-layer-group", role: "group", "aria-label": "Layers" }, [
    allLayers,
    layerChips,
  ]);
  const syncLayers = roving(layerGroup, () => [allLayers, .../** @type {HTMLElement[]} */ ([...layerChips.children])]);
  const layerBox = h("fieldset", { className: "nbc-layers" }, [h("legend", { text: "Layers" }), layerGroup]);
  // Enter applies the focused one alone; Space toggles it (a chip's own click)
  layerGroup.addEventListener("keydown", (event) => {
    const chip = /** @type {HTMLElement} */ (event.target);
    if (event.key !== "Enter" || !chip.dataset?.layer || chip.dataset.layer === "all") return;
    event.preventDefault();
    choose("layers", [Number(chip.dataset.layer)]);
  });

  const allSamples = h("button", {
    type: "button",
    className: "nbc-all-samples",
    text: "all samples",
    onclick: () => choose("samples", []),
  });
  const sampleList = h("ul", { className: "nbc-sample-list", "aria-label": "Texts" });
  const sampleGroup = h("div", { className: "nbc-sample-group", role: "group", "aria-label": "Samples" }, [
    allSamples,
    sampleList,
  ]);
  const syncSamples = roving(sampleGroup, () => [
    allSamples,
    ...[...sampleList.querySelectorAll("input")].map((i) => /** @type {HTMLElement} */ (i)),
  ]);
  sampleGroup.addEventListener("keydown", (event) => {
    const box = /** @type {HTMLInputElement} */ (event.target);
    if (event.key !== "Enter" || box.tagName !== "INPUT") return;
    event.preventDefault();
    choose("samples", [Number(box.value)]);
  });
  const sampleBox = h("fieldset", { className: "nbc-samples" }, [h("legend", { text: "Samples" }), sampleGroup]);

  let single = new Set(); // controls that pick exactly one item in the current view
  const toggle = (name, value) => {
    if (single.has(name)) {
      choose(name, [value]);
      return;
    }
    const chosen = new Set(current(name));
    if (chosen.has(value)) chosen.delete(value);
    else chosen.add(value);
    choose(
      name,
      [...chosen].sort((a, b) => a - b),
    );
  };

  let layerKey = "";
  let sampleKey = "";
  let viewKey = "";
  function update({ views, models, layerOptions, sampleOptions, status: state, progress: fraction, error }) {
    // options (rebuilt only when they change)
    const newViewKey = JSON.stringify(views);
    if (newViewKey !== viewKey) {
      viewKey = newViewKey;
      viewGroup.replaceChildren(
        ...views.map(({ value, label, title }) =>
          h("button", {
            type: "button",
            className: "nbc-view",
            role: "tab",
            id: `${id}-tab-${value}`,
            "aria-controls": panelId,
            "data-view": value,
            title,
            text: label,
            onclick: () => choose("view", value),
          }),
        ),
      );
    }
    const modelKey = JSON.stringify(models);
    if (modelSelect.dataset.key !== modelKey) {
      modelSelect.replaceChildren(...models.map((name) => h("option", { value: name, text: name })));
      modelSelect.dataset.key = modelKey;
    }
    modelLabel.hidden = models.length < 2;
    modelSelect.value = current("model");
    const newLayerKey = JSON.stringify(layerOptions);
    if (newLayerKey !== layerKey) {
      layerKey = newLayerKey;
      layerChips.replaceChildren(
        ...layerOptions.map(({ layer, fraction: f }) =>
          h("button", {
            type: "button",
            className: "nbc-chip",
            "data-layer": layer,
            title: `layer ${layer} (layer fraction ${f.toFixed(2)})`,
            "aria-label": `Layer ${layer}`,
            text: String(layer),
            onclick: () => toggle("layers", layer),
          }),
        ),
      );
    }
    const newSampleKey = JSON.stringify(sampleOptions);
    if (newSampleKey !== sampleKey) {
      sampleKey = newSampleKey;
      sampleList.replaceChildren(
        ...sampleOptions.map(({ sample, words, n_tokens: n }) => {
          const box = h("input", {
            type: "checkbox",
            value: sample,
            "aria-label": `#${sample} ${firstWords(words)}`,
            onchange: () => toggle("samples", sample),
          });
          return h("li", { "data-sample": sample }, [
            h("label", { title: words }, [
              box,
              h("span", { className: "nbc-sample-id", text: `#${sample}` }),
              h("span", { className: "nbc-words", text: words }),
              h("span", { className: "nbc-ntok", text: n == null ? "" : `${n} tok` }),
            ]),
          ]);
        }),
      );
    }
    // selections
    const view = current("view");
    for (const tab of viewGroup.children)
      tab.setAttribute("aria-selected", String(/** @type {HTMLElement} */ (tab).dataset.view === view));
    document.getElementById(panelId)?.setAttribute("aria-labelledby", `${id}-tab-${view}`);
    const spec = views.find((v) => v.value === view) ?? {};
    const off = spec.off ?? {};
    single = new Set(spec.single ?? []);
    // controls that do nothing in this view are disabled, their reason as the tooltip
    for (const [name, box, what] of [
      ["layers", layerBox, "Layers"],
      ["samples", sampleBox, "Samples"],
    ]) {
      box.disabled = Boolean(off[name]);
      box.title = off[name] ?? (single.has(name) ? `${what}: this view draws one; pick it here` : "");
      box.dataset.mode = off[name] ? "off" : single.has(name) ? "one" : "many";
    }
    const oneOnly = "This view draws one: pick it below";
    allLayers.disabled = single.has("layers");
    allLayers.title = single.has("layers") ? oneOnly : "All layers";
    allSamples.disabled = single.has("samples");
    allSamples.title = single.has("samples") ? oneOnly : "All samples";
    const drawn = drawnOne({ layers: current("layers"), samples: current("samples"), layerOptions });
    const layers = new Set(single.has("layers") ? [drawn.layer] : current("layers"));
    allLayers.setAttribute("aria-pressed", String(layers.size === 0));
    for (const chip of layerChips.children)
      chip.setAttribute("aria-pressed", String(layers.has(Number(chip.dataset.layer))));
    const samples = new Set(single.has("samples") ? [drawn.sample] : current("samples"));
    allSamples.setAttribute("aria-pressed", String(samples.size === 0));
    for (const item of sampleList.children) {
      const box = item.querySelector("input");
      box.type = single.has("samples") ? "radio" : "checkbox";
      box.checked = samples.has(Number(item.dataset.sample));
    }
    syncViews();
    syncLayers();
    syncSamples();
    // status and error
    statusText.textContent =
      state === "measuring" ? `Measuring… ${Math.round(100 * fraction)} %` : state === "error" ? "Error" : "";
    progress.value = fraction;
    progress.hidden = state !== "measuring";
    errorText.textContent = error;
    errorBox.hidden = !error;
  }

  const toolbar = h("div", { className: "nbc-toolbar" }, [modelLabel, viewGroup, exportGroup]);
  const side = h("div", { className: "nbc-side" }, [layerBox, sampleBox]);
  return { toolbar, status, errorBox, side, update, announce, panelId };
}

/** The first words of a text (a sample's accessible name). */
function firstWords(text, n = 8) {
  const words = String(text).split(/\s+/).filter(Boolean);
  return words.slice(0, n).join(" ") + (words.length > n ? "…" : "");
}
