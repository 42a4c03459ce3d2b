"""Make the explorer's spec templates from the charts here: ``python -m nb_condense.charts.templates``.

Each template is an Altair chart of this module's look, made with placeholders (:mod:`nb_condense.charts.specs`)
where a spec's own title, caption, x range or height go, and with no data. The JSON written to
``nb_condense/charts/spec_templates.json`` is committed; a test checks it equals what this makes now.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.files import write_text
from .base import DENSITY_CLIP, live_title
from .heatmaps import heatmap_template
from .lines import distributions_template, layer_band_template
from .specs import HEIGHT, SUBTITLE, TEMPLATES, TITLE, TOKEN_WIDTH, X_HI, X_LO
from .tokens import token_template

__all__ = ["build_templates", "explorer_distributions", "explorer_heatmap", "explorer_tokens", "explorer_trend",
           "main", "render_templates"]


def explorer_heatmap(x_domain: tuple[Any, Any] = (X_LO, X_HI)) -> Any:
    """The explorer's heatmap (and the offline page's), without data: clickable columns, the paper's colour scale."""
    return heatmap_template(x_domain, DENSITY_CLIP, "", "", (), True, 420, 320)


def explorer_distributions(discrete: bool) -> Any:
    """The explorer's distributions, without data (``discrete``: at most ten layers, a palette with a legend)."""
    return distributions_template(False, "", 420, 240, discrete)


def explorer_trend() -> Any:
    """The explorer's trend (layer means with bands), without data."""
    return layer_band_template("", "")


def explorer_tokens(height: Any = HEIGHT) -> Any:
    """The explorer's token strip, without data.

    ``height`` is its height in px; the front end sets it again when it lays the cells out for its width.
    """
    return token_template(TOKEN_WIDTH, height, "")


def build_templates() -> dict[str, Any]:
    """The explorer's four views as spec templates (Vega-Lite dicts without data), each with a live title.

    ``distributions`` colours up to ten layers with a discrete palette, ``distributions_many`` more layers with
    a sequential scale.
    """
    charts = {
        "heatmap": explorer_heatmap(),
        "distributions": explorer_distributions(True),
        "distributions_many": explorer_distributions(False),
        "trend": explorer_trend(),
        "tokens": explorer_tokens(),
    }
    out = {}
    for name, chart in charts.items():
        spec = live_title(chart, TITLE, SUBTITLE).to_dict(validate=False)
        for key in ("data", "datasets"):  # the placeholder data of templates that need one
            spec.pop(key, None)
        out[name] = spec
    return out


def render_templates() -> str:
    """The templates file's text (stable: sorted keys)."""
    return json.dumps(build_templates(), indent=1, sort_keys=True) + "\n"


def main() -> None:
    """Rewrite ``nb_condense/charts/spec_templates.json``."""
    write_text(TEMPLATES, render_templates())
    print(f"wrote {TEMPLATES}")


if __name__ == "__main__":
    main()
