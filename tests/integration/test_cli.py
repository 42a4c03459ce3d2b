"""The nb-condense command line."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys

import numpy as np
import pytest

import nb_condense as nbc
from nb_condense.cli import build_parser, main

TINY = 'random:{"model_type": "gpt2", "n_layer": 2, "n_embd": 32, "n_head": 2, "n_positions": 64}'


def test_measure_prints_a_summary_and_writes_files(tmp_path, capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text("The first text has a few words.\n\nA second one, longer than the first text is.\n")
    code = main(["measure", TINY, "--tokenizer", "embedded", "--texts-file", str(texts), "--max-length", "32",
                 "--out", str(tmp_path / "r.npz"), "--plot", str(tmp_path / "h.png"), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Spearman rho" in out and "layer_fraction" in out
    result = nbc.CondensationResult.load(tmp_path / "r.npz")
    assert result.n_texts == 2 and result.n_layers == 2 and len(result.layers) == 3
    assert f"{result.trend().spearman_rho:.4f}" in out
    low, high = result.trend(ci=0.95).intervals["last_half_mean"]  # from the saved file: the same resamples
    assert "95 % bootstrap intervals over the 2 texts:" in out and f"last-half mean {low:.4f} to {high:.4f}" in out
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_measure_reports_bad_input_without_a_traceback(tmp_path, capsys):
    code = main(["measure", TINY, "--tokenizer", "embedded", "--dataset", "nope", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "--dataset 'nope' is not one of" in err and "Traceback" not in err
    code = main(["measure", "random:gpt2", "--dataset", "builtin"])
    assert code == 2 and "--tokenizer is needed" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_runs_offline_as_a_subprocess(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "nb_condense.cli", "demo", "--out-dir", str(tmp_path), "--n-texts", "3",
         "--max-length", "64", "--no-progress"],
        capture_output=True, text=True, timeout=300, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "all-MiniLM-L6-v2" in done.stdout and "Spearman rho" in done.stdout
    result = nbc.CondensationResult.load(tmp_path / "result.npz")
    assert result.metadata["corpus"] == "builtin" and result.n_layers == 6 and len(result.layers) == 7
    summary = np.loadtxt(tmp_path / "summary.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(summary[:, 2], result.layer_means)
    assert (tmp_path / "heatmap.png").stat().st_size > 10_000


def test_embedded_model_with_device_map_and_auto_batch(tmp_path, capsys):
    texts = tmp_path / "t.txt"
    texts.write_text("One text with some words in it.\nAnother text, a little longer than the first one.\n")
    code = main(["measure", "embedded", "--device-map", "cpu", "--batch-size", "auto", "--texts-file", str(texts),
                 "--max-length", "32", "--out", str(tmp_path / "r.npz"), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert nbc.CondensationResult.load(tmp_path / "r.npz").metadata["batch_size"] == 1
    code = main(["measure", TINY, "--tokenizer", "embedded", "--device-map", "auto", "--texts-file", str(texts)])
    assert code == 2 and "--device-map applies to pretrained weights" in capsys.readouterr().err


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {"nb-condense": parser, **{f"nb-condense {name}": sub for name, sub in action.choices.items()}}


@pytest.mark.parametrize("command", list(subcommands()))
def test_every_option_has_help_and_shows_one_default(command):
    parser = subcommands()[command]
    options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert options
    for action in options:
        text = parser._get_formatter()._expand_help(action) if action.help else ""
        assert text.strip(), f"{command} {action.option_strings[0]} has no help"
        if action.required:
            assert "required" in text and "default:" not in text, (command, action.option_strings[0], text)
        elif action.dest != "version":
            assert text.count("default:") == 1, (command, action.option_strings[0], text)


@pytest.mark.parametrize("command", [c for c in subcommands() if c != "nb-condense"])
def test_every_subcommand_has_examples_that_parse(command):
    parser = subcommands()[command]
    examples = [line.split("#")[0].strip() for line in (parser.epilog or "").splitlines()
                if line.strip().startswith(command)]
    assert examples, f"{command} --help shows no example"
    for example in examples:
        args = build_parser().parse_args(shlex.split(example)[1:])  # exits 2 when an example is wrong
        assert args.command == command.split()[1]
