"""The training lab leaves nothing behind: each run's output folder is removed when the run ends."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from transformers import TrainerCallback

from nb_condense import training


def lab_folders() -> list[Path]:
    return sorted(Path(tempfile.gettempdir()).glob("nb_condense_*"))


@pytest.fixture
def own_tempdir(tmp_path, monkeypatch):
    """A temporary directory of this test's own, so other processes' folders do not enter the count."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert lab_folders() == []


@pytest.fixture(scope="module")
def lab():  # type: ignore[no-untyped-def]
    texts = [" ".join(f"word{i % 37} and{i % 11} more{i % 5}" for i in range(k, k + 80)) for k in range(6)]
    tokenizer = training.train_tokenizer(texts, vocab_size=300)
    return texts, tokenizer


def tiny(tokenizer):  # type: ignore[no-untyped-def]
    return training.tiny_gpt2(n_layer=1, n_embd=16, n_head=2, vocab_size=len(tokenizer), n_positions=32)


def test_pretrain_removes_its_output_folder(own_tempdir, lab):
    texts, tokenizer = lab
    training.pretrain(tiny(tokenizer), tokenizer, texts, steps=1, batch_size=2, block_size=16, disable_tqdm=True)
    assert lab_folders() == []


def test_distill_removes_its_output_folder(own_tempdir, lab):
    texts, tokenizer = lab
    training.distill(tiny(tokenizer), tiny(tokenizer), tokenizer, texts, steps=1, batch_size=2, block_size=16,
                     disable_tqdm=True)
    assert lab_folders() == []


class Stop(TrainerCallback):
    def on_step_begin(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt


def test_a_run_stopped_midway_removes_its_output_folder_too(own_tempdir, lab):
    texts, tokenizer = lab
    with pytest.raises(KeyboardInterrupt):
        training.pretrain(tiny(tokenizer), tokenizer, texts, steps=2, batch_size=2, block_size=16, disable_tqdm=True,
                          callbacks=[Stop()])
    assert lab_folders() == []


def test_a_given_output_folder_is_kept(own_tempdir, lab, tmp_path):
    texts, tokenizer = lab
    kept = tmp_path / "mine"
    training.pretrain(tiny(tokenizer), tokenizer, texts, steps=1, batch_size=2, block_size=16, disable_tqdm=True,
                      output_dir=str(kept))
    assert kept.is_dir()


def test_the_old_measure_texts_keyword_still_sizes_the_held_out_texts_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="n_measure_texts"):
        config = training.LabConfig().replace(measure_texts=3, steps=2)
    assert config == training.LabConfig(n_measure_texts=3, steps=2)


def test_an_unknown_lab_setting_is_named():
    with pytest.raises(TypeError, match="n_layers.*LabConfig has steps, n_layer"):
        training.LabConfig().replace(n_layers=3)


def test_the_experiments_take_one_config_and_its_fields_as_keywords(monkeypatch):
    """Both experiments size their lab from the same config: a config object and its fields as keywords agree."""
    from nb_condense.training.lab import experiments

    opened: list[training.LabConfig] = []

    class Opened(Exception):
        pass

    def record(config):  # type: ignore[no-untyped-def]
        opened.append(config)
        raise Opened

    monkeypatch.setattr(experiments._Lab, "prepare", record)
    config = training.LabConfig(steps=2, n_texts=5, n_measure_texts=2)
    for run in (lambda: training.controlled_width_experiment((8,), config=config),
                lambda: training.controlled_width_experiment((8,), steps=2, n_texts=5, n_measure_texts=2),
                lambda: training.distillation_experiment(config=config.replace(seed=1)),
                lambda: training.distillation_experiment(steps=2, n_texts=5, n_measure_texts=2, seed=1)):
        with pytest.raises(Opened):
            run()
    assert opened == [config, config, config.replace(seed=1), config.replace(seed=1)]
