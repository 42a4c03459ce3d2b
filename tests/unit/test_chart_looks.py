"""How the charts look, checked on the charts as rendered by an independent Vega (vl-convert's SVG): colours per
layer, hover points, headroom, transparent zero density, one panel per loss, integer steps, titles, token text."""

from __future__ import annotations

import re

import altair as alt
import numpy as np
import pandas as pd
import pytest
import vl_convert as vlc
from test_spec_templates import synthetic_result  # tests/unit is on the path (rootdir conftest)

from nb_condense import charts
from nb_condense.charts import specs
from nb_condense.charts.base import OKABE_ITO
from nb_condense.explore.session import CondensationSession
from nb_condense.widgets._views import VIEWS, Choice

ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def rgb(colour):
    """``(r, g, b)`` of ``#rrggbb`` or ``rgb(r, g, b)``."""
    if colour.startswith("#"):
        return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return tuple(int(float(v)) for v in re.findall(r"[\d.e-]+", colour)[:3])


def svg_elements(chart, tag="path"):
    """Every ``tag`` element of the chart's SVG, as attribute dicts."""
    svg = vlc.vegalite_to_svg(chart.to_dict())
    return [dict(ATTRIBUTE.findall(m.group(1))) for m in re.finditer(rf"<{tag}\b([^>]*)>", svg)]


def texts(chart):
    svg = vlc.vegalite_to_svg(chart.to_dict())
    return [re.sub(r"<[^>]+>", "", m) for m in re.findall(r"<text[^>]*>(.*?)</text>", svg)]


def line_strokes(chart):
    """``{layer: (stroke, dash)}`` of the distribution curves."""
    lines = [e for e in svg_elements(chart) if e.get("aria-roledescription") == "line mark"]
    out = {}
    for line in lines:
        layer = int(re.search(r"\bLayer: (\d+)", line["aria-label"]).group(1))
        out[layer] = (line.get("stroke"), line.get("stroke-dasharray", ""))
    return out


def test_up_to_ten_layers_get_the_discrete_palette_in_layer_order_with_a_legend():
    result = synthetic_result(3, n_entries=5)
    chart = charts.distributions(result, [4, 0, 2])
    strokes = line_strokes(chart)
    assert {layer: stroke.upper() for layer, (stroke, _) in strokes.items()} == {0: OKABE_ITO[0], 2: OKABE_ITO[1],
                                                                                 4: OKABE_ITO[2]}
    assert len({dash for _, dash in strokes.values()}) == 3  # colour plus dash: apart without colour too
    assert "Layer" in texts(chart)  # the legend names layers by index


def test_beyond_ten_layers_a_sequential_scale_over_the_chosen_layers():
    result = synthetic_result(4, n_entries=14)
    chosen = list(range(2, 14))
    strokes = line_strokes(charts.distributions(result, chosen))
    colours = [rgb(strokes[k][0]) for k in chosen]
    assert not {"#{:02X}{:02X}{:02X}".format(*c) for c in colours} & set(OKABE_ITO)
    # viridis runs dark purple -> yellow over the chosen layers' range: green rises with the layer, and the
    # first and last chosen layers take its two ends
    greens = [c[1] for c in colours]
    assert greens == sorted(greens) and greens[0] < 10 and greens[-1] > 220


def test_hover_points_carry_the_tooltip_and_the_peaks_have_headroom():
    result = synthetic_result(5)
    chart = charts.distributions(result, [1, 3])
    vega = vlc.vegalite_to_vega(chart.to_dict())
    marks = {m["type"]: m for m in vega["marks"] if m["type"] != "group"}
    groups = [m for m in vega["marks"] if m["type"] == "group"]
    symbols = [m for m in vega["marks"] if m["type"] == "symbol"]
    for group in groups:
        symbols += [m for m in group.get("marks", []) if m["type"] == "symbol"]
    hover = [m for m in symbols if "tooltip" in m["encode"]["update"]]
    assert hover and all(m["encode"]["update"]["opacity"] == {"value": 0} for m in hover)
    line_marks = [m for g in groups for m in g.get("marks", []) if m["type"] == "line"] + \
        [m for m in marks.values() if m["type"] == "line"]
    assert line_marks and all("tooltip" not in m["encode"]["update"] for m in line_marks)
    # the highest peak sits at least 10 % of the plot's height below its top edge
    ys = [float(y) for e in svg_elements(chart) if e.get("aria-roledescription") == "line mark"
          for y in re.findall(r"[ML][\d.]+,([\d.]+)", e["d"])]
    assert min(ys) >= 240 * (1 - 1 / 1.1) - 0.5


def test_zero_density_is_transparent_and_the_top_opaque():
    density = np.zeros((3, 8))
    density[0, 2], density[1, 5], density[2, 7] = 1e-9, 5.0, 50.0
    from nb_condense.charts.heatmaps import density_heatmap

    fills = {}
    for rect in svg_elements(density_heatmap(density, np.array([0, 0.5, 1])).chart):
        match = re.search(r"; density: ([\d.]+)", rect.get("aria-label", ""))
        if match:
            fills[float(match.group(1))] = rect["fill"]
    low = fills[0.0]  # 1e-9, shown with 3 decimals
    assert low.startswith("rgba") and float(re.findall(r"[\d.e-]+", low)[3]) < 0.01, low
    assert rgb(fills[50.0]) == (0x67, 0x00, 0x0D)  # clipped at the paper's top colour, opaque
    assert not fills[5.0].startswith("rgba")


LOG = pd.DataFrame({"step": [1, 2, 3], "loss": [6.0, 5.5, 5.2], "ce_loss": [6.4, 6.0, 5.7],
                    "dispersion_loss": [-0.48, -0.47, -0.46]})


def test_one_live_view_panel_per_loss_each_with_its_own_y_axis_and_integer_steps():
    chart = charts.training_losses(LOG, width=300)
    shown = texts(chart)
    assert shown.count("Loss") == 3  # one y axis per panel
    assert {"Total loss", "Language-model (CE) loss", "Dispersion loss", "Training losses"} <= set(shown)
    fine = [t for t in shown if re.fullmatch(r"[−-]0\.4\d\d", t)]
    assert fine, shown  # the dispersion panel's own scale resolves -0.48 .. -0.46 (a shared one could not)
    steps = [t for t in shown if re.fullmatch(r"\d+(\.\d+)?", t) and t in {"1", "1.5", "2", "2.5", "3"}]
    assert sorted(set(steps)) == ["1", "2", "3"] and len(steps) == 9  # three panels, integer ticks only


def test_the_history_legend_names_layers_by_index_with_the_fraction_in_the_tooltip():
    history = pd.DataFrame({"step": [0, 0, 0, 40, 40, 40], "layer": [0, 2, 4] * 2,
                            "layer_fraction": [0.0, 0.5, 1.0] * 2, "mean": [0.1, 0.3, 0.6, 0.1, 0.2, 0.3]})
    chart = charts.training_history(history)
    shown = texts(chart)
    assert {"0", "2", "4", "Layer", "Mean cosine per layer vs step"} <= set(shown)
    tooltip = chart.to_dict()["encoding"]["tooltip"]
    assert {"layer", "layer_fraction"} <= {t["field"] for t in tooltip}
    assert len({dash for _, dash in line_strokes_by_layer(chart).values()}) == 3


def line_strokes_by_layer(chart):
    lines = [e for e in svg_elements(chart) if e.get("aria-roledescription") == "line mark"]
    return {re.search(r"Layer: (\d+)", e["aria-label"]).group(1): (e.get("stroke"), e.get("stroke-dasharray", ""))
            for e in lines}


def test_every_explorer_view_has_a_title_naming_model_layers_and_samples_and_a_caption():
    sessions = {"m": CondensationSession.from_result(synthetic_result(6), name="m")}
    expected = {
        "heatmap": "m · all 5 layers · samples #0, #2",
        "distributions": "m · layers 1, 3 · samples #0, #2",
        "trend": "Mean cosine per layer · 1 model · all samples",
        "tokens": "m · sample #0 · layer 1",
    }
    for view in VIEWS:
        choice = Choice(sessions, "m", [1, 3], [0, 2], view.value)
        spec, _ = view.spec(choice.without(view.page_fields))
        assert spec["title"]["text"] == {"expr": specs.TITLE_PARAM}
        title = next(p["value"] for p in spec["params"] if p["name"] == specs.TITLE_PARAM)
        assert title == expected[view.value], view.value
        assert spec["title"]["subtitle"], view.value  # the caption for the quantity
        # vl-convert draws the title from the param
        assert expected[view.value] in texts(view.chart(choice.without(view.page_fields)))


def test_tokens_show_readable_markers_and_text_that_contrasts_with_its_cell():
    frame = pd.DataFrame({"position": range(6), "token": ["Ġno", "▁the", "Ċ", "x", "Ġa", "b"],
                          "mean_cosine": [-0.2, 0.0, 0.3, 0.6, 0.9, 1.0]})
    chart = charts.token_strip(frame)
    shown = texts(chart)
    assert {"␣no", "␣the", "⏎", "␣a"} <= set(shown)
    cells = [e for e in svg_elements(chart) if e.get("aria-roledescription") == "rect mark"]
    words = [e for e in svg_elements(chart, "text") if e.get("aria-roledescription") == "text mark"]
    assert len(cells) == len(words) == 6
    assert all("token: " in w["aria-label"] for w in words)  # the word carries the tooltip too

    def luminance(colour):
        r, g, b = (v / 255 for v in rgb(colour))
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    def contrast(a, b):
        hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
        return (hi + 0.05) / (lo + 0.05)

    text_fills = [w["fill"] for w in words]
    cell_fills = [c["fill"] for c in cells]
    assert len(text_fills) == len(cell_fills) == 6
    for cell, text in zip(cell_fills, text_fills):
        other = "#ffffff" if text == "#000000" else "#000000"
        assert contrast(cell, text) >= contrast(cell, other), (cell, text)
    assert set(text_fills) == {"#000000", "#ffffff"}  # light cells get black words, dark ones white


def test_grid_wraps_after_two_and_keeps_or_shares_colour():
    result = synthetic_result(8)
    parts = [charts.heatmap(result, select=False, title=f"h{k}") for k in range(4)]
    spec = charts.grid(*parts).to_dict()
    assert spec["columns"] == 2 and len(spec["concat"]) == 4
    assert spec["resolve"]["scale"]["color"] == "independent"
    alt.hconcat(*parts).to_dict(validate=True)  # the tutorials' own layout of these charts stays valid
    shared = charts.grid(*parts, shared_colour=True)
    assert shared.to_dict()["resolve"]["scale"]["color"] == "shared"
    # rendered: four charts in two rows of two (the figure is about two charts wide, not four)
    svg = vlc.vegalite_to_svg(shared.to_dict())
    width = float(re.search(r'width="([\d.]+)"', svg).group(1))
    single = float(re.search(r'width="([\d.]+)"', vlc.vegalite_to_svg(parts[0].to_dict())).group(1))
    assert 1.5 * single < width < 2.6 * single
    with pytest.raises(ValueError, match="columns must be at least 1"):
        charts.grid(*parts, columns=0)


def legend_offset(chart):
    """``(x, y)`` of the first legend in the chart's SVG, as Vega placed it (an independent renderer)."""
    svg = vlc.vegalite_to_svg(chart.to_dict())
    at = svg.index('role-legend')
    x, y = re.search(r'transform="translate\(([\d.-]+),([\d.-]+)\)"', svg[at:]).groups()
    return float(x), float(y)


def test_the_heatmap_legend_sits_under_the_plot_with_its_whole_title():
    """Issue 30: 00 [10]'s legend title was cut to "Proba" at the right of a horizontally scrolled pair of
    heatmaps. Under the plot, it takes no width and its title is whole."""
    result = synthetic_result(0)
    heatmap = charts.heatmap(result, select=False, title="a")
    x, y = legend_offset(heatmap)
    assert y >= 320 and x < 420  # below the 320-px-high plot, not to its right
    pair = charts.grid(heatmap, charts.heatmap(result, select=False, title="b"), shared_colour=True)
    assert "Probability density" in texts(pair)


def test_the_layer_trend_legend_names_what_the_lines_differ_by():
    """00 [30]'s legend read "Model" over "64 tokens" and "512 tokens"."""
    result = synthetic_result(0)
    shown = texts(charts.layer_trend({"64 tokens": result, "512 tokens": result}, legend="Text length"))
    assert "Text length" in shown and "Model" not in shown and "64 tokens" in shown
    assert "Model" in texts(charts.layer_trend({"a": result, "b": result}))


def vega_legends(chart) -> list[dict]:
    """Every legend of the chart as Vega compiles it (an independent compiler): its title and the scales it shows."""
    found: list[dict] = []

    def walk(node: dict) -> None:
        found.extend(node.get("legends", []))
        for mark in node.get("marks", []):
            walk(mark)

    walk(vlc.vegalite_to_vega(chart.to_dict()))
    return found


@pytest.mark.parametrize("ci", [None, 0.95])
def test_the_layer_trend_has_one_legend_with_colour_and_dash(ci):
    """The layer-trend chart drew two legends titled "Model" (three with a band): one of colours, one of
    shapes. One legend now shows each line's colour and dash together, as the lines are drawn."""
    pair = {"a": synthetic_result(0), "b": synthetic_result(1)}
    legends = vega_legends(charts.layer_trend(pair, ci=ci))
    assert len(legends) == 1, [legend.get("title") for legend in legends]
    assert legends[0]["title"] == "Model" and legends[0].get("stroke") and legends[0].get("strokeDash")
    assert "a" in texts(charts.layer_trend(pair, ci=ci)) and "b" in texts(charts.layer_trend(pair, ci=ci))


def test_each_band_keeps_the_colour_of_its_line():
    """The band's colours have their own scale (no legend): each must still match its model's line."""
    pair = {"a": synthetic_result(0), "b": synthetic_result(1), "c": synthetic_result(2)}
    marks = svg_elements(charts.layer_trend(pair, ci=0.95))
    fills = [m["fill"] for m in marks if m.get("aria-roledescription") == "area mark"]
    strokes = [m["stroke"] for m in marks if m.get("aria-roledescription") == "line mark"]
    assert len(set(fills)) == 3 and fills == strokes
