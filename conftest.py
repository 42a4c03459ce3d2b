"""Root pytest configuration: tests and doctests never reach the Hugging Face hub; each tier gets its marker."""

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # hub lookups fail at once instead of retrying for ~25 s
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent
TIER_MARKERS = {("tests", "browser"): "browser", ("tests", "notebooks"): "notebooks"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each item by tier: ``browser`` and ``notebooks`` by folder, ``slow`` for doctests on real weights.

    The edit loop deselects them (tests/README.md); CI runs everything.
    """
    for item in items:
        path = Path(str(item.path))
        parts = path.relative_to(ROOT).parts if path.is_relative_to(ROOT) else ()
        marker = TIER_MARKERS.get(tuple(parts[:2]))
        if marker:
            item.add_marker(marker)
        if isinstance(item, pytest.DoctestItem) and any(
            "embedded" in example.source for example in item.dtest.examples
        ):
            item.add_marker("slow")  # loads the pretrained MiniLM and runs forward passes
