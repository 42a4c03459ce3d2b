// Draw every saved chart of a tutorial page with the site's own vega-embed (no CDN). Each chart is a
// <figure class="nbc-chart"> holding the Vega-Lite spec as JSON and its text description as caption.
document.addEventListener("DOMContentLoaded", () => {
  for (const figure of document.querySelectorAll("figure.nbc-chart")) {
    const target = figure.querySelector(".nbc-vega");
    const spec = JSON.parse(figure.querySelector("script.nbc-spec").textContent);
    vegaEmbed(target, spec, { actions: false, renderer: "svg" }).catch((error) => {
      target.textContent = `The chart could not be drawn: ${error.message}`;
    });
  }
});
