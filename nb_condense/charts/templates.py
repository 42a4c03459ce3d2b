"""Make the explorer's spec templates from the charts here: ``python -m nb_condense.charts.templates``.

Each template is an Altair chart of this module's look, made with placeholders (:mod:`nb_condense.explore.specs`)
where a spec's own title, caption, x range or height go, and with no data. The JSON written to
``nb_condense/static/spec_templates.json`` is committed; a test checks it equals what this makes now.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.files import write_text
from ..explore.specs import HEIGHT, SUBTITLE, TEMPLATES, TITLE, TOKENS_PER_ROW, X_HI, X_LO
from .base import DENSITY_CLIP
from .heatmaps import _heatmap_template
from .lines import _distributions_template, _layer_band_template
from .tokens import _token_template

__all__ = ["build_templates", "main", "render_templates"]


def build_templates() -> dict[str, Any]:
    """The explorer's four views as spec templates (Vega-Lite dicts without data)."""
    charts = {
        "heatmap": _heatmap_template((X_LO, X_HI), DENSITY_CLIP, TITLE, SUBTITLE, (), True, 420, 320),
        "distributions": _distributions_template(False, "", 420, 240),
        "trend": _layer_band_template(TITLE, SUBTITLE),
        "tokens": _token_template(TOKENS_PER_ROW, HEIGHT, TITLE),
    }
    out = {}
    for name, chart in charts.items():
        spec = chart.to_dict(validate=False)
        for key in ("data", "datasets"):  # the placeholder data of templates that need one
            spec.pop(key, None)
        out[name] = spec
    return out


def render_templates() -> str:
    """The templates file's text (stable: sorted keys)."""
    return json.dumps(build_templates(), indent=1, sort_keys=True) + "\n"


def main() -> None:
    """Rewrite ``nb_condense/static/spec_templates.json``."""
    write_text(TEMPLATES, render_templates())
    print(f"wrote {TEMPLATES}")


if __name__ == "__main__":
    main()
