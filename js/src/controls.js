// The explorer's controls: plain DOM, native focusable elements, state read through `current(name)`.
import { drawnOne, h } from "./util.js";

/** Build the controls; `choose(name, value)` records a user choice, `act(name)` runs an action. */
export function buildControls({ current, choose, act }) {
  const modelSelect = h("select", {
    className: "nbc-model",
    "aria-label": "Model",
    onchange: (e) => choose("model", e.target.value),
  });
  const modelLabel = h("label", { className: "nbc-model-label" }, [h("span", { text: "Model" }), modelSelect]);

  // the views come from Python (trait _views: [{value, label, title}]); buttons are rebuilt when they change
  const viewGroup = h("div", { className: "nbc-views", role: "group", "aria-label": "View" });

  const exportGroup = h("div", { className: "nbc-export", role: "group", "aria-label": "Export" }, [
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
      title: "Download the chart's data as CSV",
      text: "CSV",
      onclick: () => act("csv"),
    }),
  ]);

  const statusText = h("span", { className: "nbc-status-text" });
  const progress = h("progress", {
    className: "nbc-progress",
    max: "1",
    value: "0",
    "aria-label": "Measuring progress",
  });
  const status = h("div", { className: "nbc-status", role: "status", "aria-live": "polite" }, [statusText, progress]);
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
    text: "all",
    onclick: () => choose("layers", []),
  });
  const layerChips = h("div", { className: "nbc-chips", role: "group", "aria-label": "Layers" });
  const layerBox = h("fieldset", { className: "nbc-layers" }, [h("legend", { text: "Layers" }), allLayers, layerChips]);

  const sampleGroup = `nbc-samples-${Math.random().toString(36).slice(2)}`; // radios of one explorer
  const allSamples = h("button", {
    type: "button",
    className: "nbc-all-samples",
    text: "all samples",
    onclick: () => choose("samples", []),
  });
  const sampleList = h("ul", { className: "nbc-sample-list", "aria-label": "Samples" });
  const sampleBox = h("fieldset", { className: "nbc-samples" }, [
    h("legend", { text: "Samples" }),
    allSamples,
    sampleList,
  ]);

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
            name: sampleGroup,
            value: sample,
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
    for (const button of viewGroup.children) button.setAttribute("aria-pressed", String(button.dataset.view === view));
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
  return { toolbar, status, errorBox, side, update };
}
