// The first module of every explorer (its `_esm`): a few hundred bytes. The big bundle (vega, vega-lite,
// vega-embed and the explorer, ~870 KB) is asked from the kernel once per page and shared by every explorer
// on it, instead of travelling, being stored and being parsed once per widget.
const bundles = (globalThis.__nb_condense_bundles ??= new Map());

function load(model) {
  const hash = model.get("_bundle_hash");
  if (!bundles.has(hash)) {
    const loading = new Promise((resolve, reject) => {
      const onMessage = (msg, buffers) => {
        if (msg?.type !== "bundle" || msg.hash !== hash) return;
        model.off("msg:custom", onMessage);
        if (msg.error || !buffers?.length) {
          bundles.delete(hash);
          reject(new Error(msg.error ?? "the kernel sent no bundle"));
          return;
        }
        const url = URL.createObjectURL(new Blob([buffers[0]], { type: "text/javascript" }));
        import(/* webpackIgnore: true */ /* @vite-ignore */ url).then(
          (module) => {
            URL.revokeObjectURL(url);
            resolve(module.default);
          },
          (error) => {
            bundles.delete(hash);
            reject(error);
          },
        );
      };
      model.on("msg:custom", onMessage);
      model.send({ type: "bundle" });
    });
    bundles.set(hash, loading);
  }
  return bundles.get(hash);
}

export default {
  async render({ model, el }) {
    const what = model.get("_kind") === "chart" ? "chart" : "condensation explorer";
    el.textContent = `Loading the ${what}…`;
    try {
      const bundle = await load(model);
      return bundle.render({ model, el });
    } catch (error) {
      el.textContent = `The ${what} could not load: ${error.message ?? error}`;
      return undefined;
    }
  },
};
