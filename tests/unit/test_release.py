"""A release you can cite (issue 31.4): one version, matching the CHANGELOG; a CITATION.cff that validates; the
repository URL written once (pyproject's Source) and carried by the README's and notebooks' badges and install line."""

from __future__ import annotations

import datetime
import json
import re
import shutil
from pathlib import Path

import jsonschema
import nbformat
import pytest
import yaml

from nb_condense._version import __version__
from tests.notebooks.tutorial_checks import badge_urls, repository_of
from tools import repository_url
from tools.repository_url import tomllib

ROOT = Path(__file__).resolve().parents[2]

HEADING = re.compile(r"^## (?P<version>\d+\.\d+\.\d+)\s*\((?P<when>[^)]*)\)\s*$", re.MULTILINE)


def changelog_entries() -> list[tuple[tuple[int, ...], str]]:
    """Every ``## X.Y.Z (date or unreleased)`` heading of CHANGELOG.md, top first."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return [(tuple(map(int, m["version"].split("."))), m["when"].strip()) for m in HEADING.finditer(text)]


def released(when: str) -> bool:
    try:
        datetime.date.fromisoformat(when)
    except ValueError:
        return False
    return True


def test_the_version_is_the_changelogs_latest_release():
    entries = changelog_entries()
    releases = [version for version, when in entries if released(when)]
    assert releases, "CHANGELOG.md has no released entry (## X.Y.Z (YYYY-MM-DD))"
    assert ".".join(map(str, releases[0])) == __version__
    for version, when in entries:
        assert released(when) or when == "unreleased", f"## {version} ({when}): a date or 'unreleased'"
        if not released(when):  # the next version, collecting changes: never what is installed
            assert version > releases[0]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_project_urls_point_home_docs_source_issues_and_paper():
    urls = pyproject()["project"]["urls"]
    source = urls["Source"]
    assert repository_url.owner_and_name(source)  # a GitHub repository: the badges need one
    assert urls["Homepage"] == source
    assert urls["Documentation"].startswith(source) and urls["Issues"] == source + "/issues"
    assert urls["Paper"] == "https://arxiv.org/abs/2602.00217"


def citation() -> dict:
    # dates stay strings, as CFF wants them (YAML would read an unquoted date as a datetime.date)
    return yaml.load((ROOT / "CITATION.cff").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


def test_citation_cff_validates_against_the_official_schema():
    schema = json.loads((ROOT / "tests" / "data" / "citation-file-format-1.2.0.schema.json").read_text())
    data = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(data)
    loose = citation()
    assert loose["version"] == __version__
    assert loose["repository-code"] == pyproject()["project"]["urls"]["Source"]
    assert loose["license"] == pyproject()["project"]["license"]
    assert any("2602.00217" in ref.get("url", "") for ref in loose["references"])


def test_a_broken_citation_is_refused_by_the_schema_check():
    schema = json.loads((ROOT / "tests" / "data" / "citation-file-format-1.2.0.schema.json").read_text())
    data = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    del data["authors"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(data)


def test_the_readme_and_notebooks_carry_pyprojects_repository_url():
    assert repository_url.sync(ROOT, check=True) == []  # `python tools/repository_url.py` fixes a mismatch


def test_a_fork_changes_one_url_and_every_badge_and_install_line_follows(tmp_path):
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copy(ROOT / "CITATION.cff", tmp_path / "CITATION.cff")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("*.py", "__*"))
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    old = pyproject()["project"]["urls"]["Source"]
    fork = "https://github.com/a-teacher/nb_condense-fork"
    (tmp_path / "pyproject.toml").write_text(text.replace(old, fork), encoding="utf-8")
    before = {p.name: p.read_text() for p in repository_url.files(tmp_path)}

    changed = repository_url.sync(tmp_path)

    assert {p.name for p in changed} == set(before)  # the README, CITATION.cff and every notebook
    readme = (tmp_path / "README.md").read_text()
    assert f"git+{fork}" in readme and old not in readme
    cff = yaml.load((tmp_path / "CITATION.cff").read_text(), Loader=yaml.BaseLoader)
    assert cff["repository-code"] == fork and cff["url"].startswith(fork)
    for path in sorted((tmp_path / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        assert repository_of(notebook) == fork
        for url in badge_urls(fork, path.name):
            assert url in readme and url in notebook.cells[0].source
        old_lines, new_lines = before[path.name].splitlines(), path.read_text().splitlines()
        assert len(old_lines) == len(new_lines)  # edited as text: only URL-bearing lines differ
        assert all(a == b or "github" in a for a, b in zip(old_lines, new_lines))
    assert repository_url.sync(tmp_path, check=True) == []
