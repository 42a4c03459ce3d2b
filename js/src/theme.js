// The host's theme: its colours (JupyterLab, marimo, VS Code, then the CSS system colours), the Vega config made
// from them, and a watcher that tells charts when the theme changed (no kernel round trip).

/**
 * The host's colours, in the order hosts define them: JupyterLab (`--jp-*`), marimo (`--background`,
 * `--foreground`, given as colours or as shadcn-style HSL components), VS Code (`--vscode-*`), then the CSS
 * system colours `Canvas` / `CanvasText` (which follow `color-scheme: light dark`).
 * @type {Record<string, [string[], string]>} Each key: the host variables to try, in order, and the fallback.
 */
const HOST_COLOURS = {
  fg: [["--jp-ui-font-color1", "--foreground", "--vscode-editor-foreground"], "CanvasText"],
  // no host value: 70 % text on the background (GrayText is below 4.5:1 on white), see mutedFallback
  muted: [["--jp-ui-font-color2", "--muted-foreground", "--vscode-descriptionForeground"], ""],
  bg: [["--jp-layout-color0", "--background", "--vscode-editor-background"], "Canvas"],
  bg2: [["--jp-layout-color2", "--muted", "--vscode-editorWidget-background"], "ButtonFace"],
  border: [["--jp-border-color1", "--border", "--vscode-panel-border"], "GrayText"],
  grid: [["--jp-border-color2", "--border", "--vscode-panel-border"], "GrayText"],
  accent: [["--jp-brand-color1", "--primary", "--vscode-focusBorder"], "Highlight"],
  font: [["--jp-ui-font-family", "--marimo-text-font", "--vscode-font-family"], "system-ui, sans-serif"],
};

/** `value` as a CSS colour, or null: a colour as is, or HSL components ("0 0% 100%") as hsl(...). */
function asColour(value) {
  if (!value) return null;
  if (CSS.supports("color", value)) return value;
  if (CSS.supports("color", `hsl(${value})`)) return `hsl(${value})`;
  return null;
}

/** A CSS colour resolved by the browser (rgb()/rgba()), in the context of `el`. */
function resolved(el, colour) {
  const probe = document.createElement("span");
  probe.style.color = colour;
  probe.style.display = "none";
  el.append(probe);
  const value = getComputedStyle(probe).color;
  probe.remove();
  return value;
}

/** The host's palette as seen from `el`: {fg, muted, bg, bg2, border, grid, accent, font}, resolved. */
export function hostPalette(el) {
  const css = getComputedStyle(el);
  const palette = {};
  for (const [key, [names, fallback]] of Object.entries(HOST_COLOURS)) {
    const values = names.map((name) => css.getPropertyValue(name).trim());
    if (key === "font") {
      palette.font = values.find(Boolean) || fallback;
      continue;
    }
    const colour = values.map(asColour).find(Boolean) ?? fallback;
    palette[key] = colour ? resolved(el, colour) : "";
  }
  if (!palette.muted) palette.muted = mix(palette.fg, palette.bg, 0.7);
  palette.onaccent = textOn(palette.accent);
  return palette;
}

/** The WCAG 2 relative luminance of an rgb()/rgba() colour (its alpha ignored). */
function luminance(/** @type {string} */ colour) {
  const [r, g, b] = (colour.match(/[\d.]+/g) ?? ["0", "0", "0"]).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * The WCAG 2 contrast ratio between two rgb()/rgba() colours (1 to 21).
 * @param {string} a A colour.
 * @param {string} b Another colour.
 * @returns {number} The ratio.
 */
export function contrastRatio(a, b) {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

/**
 * The text colour for a pressed control filled with `fill` (the host's accent): white or black, whichever
 * contrasts more. One of them always reaches 4.58:1, above WCAG AA's 4.5:1; a host's accent does not always
 * reach it with white (marimo's blue: 3.97:1).
 * @param {string} fill The fill, rgb()/rgba() as the browser resolves it.
 * @returns {string} "rgb(255, 255, 255)" or "rgb(0, 0, 0)".
 */
export function textOn(fill) {
  const [white, black] = ["rgb(255, 255, 255)", "rgb(0, 0, 0)"];
  return contrastRatio(white, fill) >= contrastRatio(black, fill) ? white : black;
}

/**
 * `share` of colour `a` over colour `b` (both rgb()/rgba() as the browser resolves them), as rgb(): a muted text
 * colour that keeps WCAG AA contrast (70 % text: above 7:1 on white and on near-black).
 * @param {string} a The text colour.
 * @param {string} b The background colour.
 * @param {number} share How much of `a`.
 * @returns {string} The mixed colour.
 */
export function mix(a, b, share) {
  const channels = (/** @type {string} */ c) => (c.match(/[\d.]+/g) ?? ["0", "0", "0"]).slice(0, 3).map(Number);
  const [x, y] = [channels(a), channels(b)];
  const out = x.map((v, i) => Math.round(share * v + (1 - share) * y[i]));
  return `rgb(${out.join(", ")})`;
}

/** Set the palette as the `--nbc-*` variables of `root` (the controls' CSS reads them). */
export function applyPalette(root, palette) {
  for (const [key, value] of Object.entries(palette)) root.style.setProperty(`--nbc-${key}`, value);
}

/** Keep `root`'s `--nbc-*` colours on the host's theme (now and after each change). Returns the stop function. */
export function followTheme(root) {
  const apply = () => {
    if (!root.isConnected) return;
    for (const key of Object.keys(HOST_COLOURS)) root.style.removeProperty(`--nbc-${key}`); // read the host's, not ours
    applyPalette(root, hostPalette(root));
  };
  queueMicrotask(apply);
  requestAnimationFrame?.(apply); // once attached to the page
  return onThemeChange(apply);
}

/** The param that holds the host's background colour (nb_condense.charts.base.BACKGROUND_PARAM): a chart's
 * colour ramps pick their light- or dark-theme stops from it (the choice is made in Python, in the spec). */
export const BACKGROUND_PARAM = "nbc_background";

/**
 * `spec` with its top-level background param set to `background` (the spec itself when it has no such param).
 * @template {Record<string, any>} S
 * @param {S} spec A Vega-Lite spec.
 * @param {string} background The host's background colour (hostPalette's `bg`).
 * @returns {S}
 */
export function onBackground(spec, background) {
  const params = spec.params;
  if (!Array.isArray(params) || !params.some((p) => p?.name === BACKGROUND_PARAM)) return spec;
  return { ...spec, params: params.map((p) => (p?.name === BACKGROUND_PARAM ? { ...p, value: background } : p)) };
}

/** Vega config that follows the host theme (see hostPalette), transparent background. */
export function themeConfig(el, palette = hostPalette(el)) {
  const { fg: text, muted, grid, font } = palette;
  return {
    background: "transparent",
    font,
    title: { color: text, subtitleColor: muted },
    axis: { labelColor: text, titleColor: text, domainColor: muted, tickColor: muted, gridColor: grid },
    legend: { labelColor: text, titleColor: text },
    header: { labelColor: text, titleColor: text },
    view: { stroke: grid },
    text: { color: text },
  };
}

const themeWatchers = new Set();
let themeObserved = false;

/** Call `callback` when the host's theme may have changed (theme attributes, style sheets, OS preference);
 * again shortly after, since a host's new style sheet may load after it flips its attributes. Returns the
 * function that stops watching. */
export function onThemeChange(callback) {
  themeWatchers.add(callback);
  if (!themeObserved) {
    themeObserved = true;
    let timers = [];
    const notify = () => {
      for (const timer of timers) clearTimeout(timer);
      timers = [0, 150, 600, 1500, 3000].map((wait) =>
        setTimeout(() => {
          for (const watcher of themeWatchers) watcher();
        }, wait),
      );
    };
    const observer = new MutationObserver(notify);
    const attributes = [
      "class",
      "style",
      "data-theme",
      "data-jp-theme-light",
      "data-jp-theme-name",
      "data-vscode-theme-kind",
    ];
    observer.observe(document.documentElement, { attributes: true, attributeFilter: attributes });
    if (document.body) observer.observe(document.body, { attributes: true, attributeFilter: attributes });
    if (document.head) observer.observe(document.head, { childList: true });
    globalThis.matchMedia?.("(prefers-color-scheme: dark)").addEventListener?.("change", notify);
  }
  return () => themeWatchers.delete(callback);
}
