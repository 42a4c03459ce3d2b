"""The teacher's expected-outputs script, run with tiny parameters: HTML notebooks, explorer pages, a summary."""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "teaching" / "make_expected_outputs.py"


@pytest.mark.slow
def test_expected_outputs_script_writes_html_pages_and_a_summary(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, str(SCRIPT), "--tiny", "--out", str(tmp_path)], check=True, env=env,
                   timeout=1800)
    summary = (tmp_path / "README.md").read_text()
    names = ("00_quickstart", "02_controlled_mlp_width", "03_condensation_at_initialisation", "04_distillation",
             "05_dispersion_loss")
    written = {p.name for p in tmp_path.iterdir()}  # 00's own files (outputs/, 6.7 MB) once landed here too
    assert written == {"README.md", *(n + suffix for n in names for suffix in ("", ".json", ".html", ".ipynb"))}
    for name in names:
        record = json.loads((tmp_path / f"{name}.json").read_text())
        html = (tmp_path / f"{name}.html").read_text()
        assert record["verdicts"] and set(record["checks"].values()) == {"not implemented"}  # stubs, as a student
        run = record["run"]  # when, where, how loaded, how long
        assert run["machine"]["cores"] == os.cpu_count() and run["kernel_cpu_minutes"] > 0
        assert run["load_average_1min"]["samples"] >= 2 and run["started_utc"][:10] in html
        assert (run["stand_in"] is not None) == (name in ("00_quickstart", "03_condensation_at_initialisation"))
        if run["stand_in"]:  # a stand-in is named on the page and in the summary
            assert "Stand-in:" in html and run["stand_in"] in summary
        assert not re.findall(r'<script[^>]+src="https?://', html)  # opens offline: nothing fetched
        for verdict in record["verdicts"]:  # every verdict reaches the teacher's HTML and the summary
            assert verdict["claim"] in html and verdict["sentence"] in summary
        pages = sorted((tmp_path / name).glob("*.html"))
        assert [p.stem for p in pages] == sorted(record["explorers"]) and pages
        for page in pages:  # a self-contained page: the data is embedded (gzip, base64), nothing is fetched
            text = page.read_text()
            assert not any(cdn in text for cdn in ("jsdelivr", "unpkg.com", "esm.sh"))
            packed = re.search(r'id="nbc-payload">([^<]+)</script>', text).group(1)
            payload = gzip.decompress(base64.b64decode(packed)).decode("utf-8")
            assert all(json.dumps(model) in payload for model in record["explorers"][page.stem]["models"])
