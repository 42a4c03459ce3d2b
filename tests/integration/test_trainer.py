"""DispersionTrainer and CondensationCallback on a 2-layer tiny GPT-2 (no dropout, CPU)."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoConfig, TrainingArguments

import nb_condense as nbc
from nb_condense.measurement.models import random_model

BLOCK = 24


def tiny_lm():
    config = AutoConfig.for_model("gpt2", n_layer=2, n_embd=32, n_head=2, n_positions=64, vocab_size=30522,
                                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    return random_model(config, seed=0, lm_head=True)


class Blocks(torch.utils.data.Dataset):
    def __init__(self, tokenizer, n=16):
        texts = nbc.sample_texts("builtin", n, min_word_count=40, max_word_count=80)
        ids = tokenizer(texts, truncation=True, max_length=BLOCK, padding="max_length", return_tensors="pt")
        self.items = [
            {"input_ids": ids["input_ids"][i], "attention_mask": ids["attention_mask"][i],
             "labels": ids["input_ids"][i].masked_fill(ids["attention_mask"][i] == 0, -100)}
            for i in range(n)
        ]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def train(tmp_path, tokenizer, *, steps, batch=4, accumulation=1, coeff=0.1, callbacks=None, lr=1e-3, **extra):
    args = TrainingArguments(
        output_dir=str(tmp_path), per_device_train_batch_size=batch, gradient_accumulation_steps=accumulation,
        max_steps=steps, logging_steps=1, learning_rate=lr, report_to=[], save_strategy="no", use_cpu=True,
        seed=0, data_seed=0, disable_tqdm=True, **extra,
    )
    trainer = nbc.DispersionTrainer(model=tiny_lm(), args=args, train_dataset=Blocks(tokenizer),
                                    dispersion_coeff=coeff, callbacks=callbacks or [])
    trainer.train()
    train.last = trainer
    return [row for row in trainer.state.log_history if "ce_loss" in row]


def penalty_on(model, dataset):
    """The dispersion penalty of a model on the whole dataset, in eval mode (deterministic)."""
    batch = {k: torch.stack([item[k] for item in dataset.items]) for k in ("input_ids", "attention_mask")}
    model.eval()
    with torch.no_grad():
        hidden = model(**batch, output_hidden_states=True).hidden_states
    return nbc.dispersion_penalty(hidden, batch["attention_mask"]).item()


@pytest.mark.slow
def test_both_parts_are_logged_and_the_penalty_falls(tmp_path, tokenizer):
    data = Blocks(tokenizer)
    before = penalty_on(tiny_lm(), data)
    logs = train(tmp_path / "with", tokenizer, steps=12, coeff=10.0, lr=3e-3)
    assert [row["step"] for row in logs] == list(range(1, 13))
    for row in logs:
        assert row["loss"] == pytest.approx(row["ce_loss"] + 10.0 * row["dispersion_loss"], rel=1e-3, abs=1e-3)
    with_penalty = penalty_on(train.last.model, data)
    train(tmp_path / "without", tokenizer, steps=12, coeff=0.0, lr=3e-3)
    without_penalty = penalty_on(train.last.model, data)
    # measured: init -0.480; 12 steps with coeff 10 -> -0.507; LM loss alone -> -0.266 (training condenses)
    assert with_penalty < before
    assert with_penalty < without_penalty - 0.1


def test_without_penalty_the_loss_is_the_lm_loss(tmp_path, tokenizer):
    logs = train(tmp_path, tokenizer, steps=3, coeff=0.0)
    for row in logs:
        assert row["loss"] == pytest.approx(row["ce_loss"], rel=1e-4)
        assert row["dispersion_loss"] < 0  # still measured and logged


@pytest.mark.slow
def test_gradient_accumulation_matches_a_larger_batch(tmp_path, tokenizer):
    big = train(tmp_path / "a", tokenizer, steps=3, batch=4, accumulation=1, coeff=0.5)
    small = train(tmp_path / "b", tokenizer, steps=3, batch=2, accumulation=2, coeff=0.5)
    for a, b in zip(big, small, strict=True):
        for key in ("loss", "ce_loss", "dispersion_loss"):
            assert a[key] == pytest.approx(b[key], rel=2e-3, abs=2e-4), key


def test_gradient_checkpointing_trains(tmp_path, tokenizer):
    fields = TrainingArguments.__dataclass_fields__
    name = "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
    logs = train(tmp_path, tokenizer, steps=2, **{name: True})
    assert len(logs) == 2 and all(torch.isfinite(torch.tensor(r["loss"])) for r in logs)


def test_condensation_callback_history(tmp_path, tokenizer):
    texts = nbc.sample_texts("builtin", 3, min_word_count=30, max_word_count=60)
    callback = nbc.CondensationCallback(texts, tokenizer, every_n_steps=2, max_length=32)
    train(tmp_path, tokenizer, steps=4, callbacks=[callback])
    history = callback.history
    assert sorted(history["step"].unique()) == [0, 2, 4]
    assert list(history.columns) == ["step", "layer", "layer_fraction", "mean"]
    assert len(history) == 3 * 3  # 3 measurements x 3 hidden-state layers
    assert list(callback.trend_history["step"]) == [0, 2, 4]
    chart = nbc.charts.training_history(history).to_dict()
    assert chart["encoding"]["x"]["field"] == "step"


def test_bad_arguments(tmp_path, tokenizer):
    with pytest.raises(ValueError, match="every_n_steps must be a positive integer"):
        nbc.CondensationCallback(["a b c"], tokenizer, every_n_steps=0)
    with pytest.raises(ValueError, match="Unknown dispersion_loc 'middle'"):
        nbc.DispersionTrainer(model=tiny_lm(), dispersion_loc="middle")
    with pytest.raises(ValueError, match="dispersion_coeff must be >= 0"):
        nbc.DispersionTrainer(model=tiny_lm(), dispersion_coeff=-1)


def progress_callbacks(trainer):
    from transformers.trainer_callback import PrinterCallback, ProgressCallback
    from transformers.utils.notebook import NotebookProgressCallback

    kinds = (ProgressCallback, NotebookProgressCallback, PrinterCallback)
    return [type(c).__name__ for c in trainer.callback_handler.callbacks if isinstance(c, kinds)]


@pytest.mark.parametrize(("options", "quiet"), [({"monitor": "view"}, True), ({"live": True}, False), ({}, False)],
                         ids=["a view", "live, no view", "neither"])
def test_the_trainers_own_bars_and_tables_are_off_under_a_live_view(tmp_path, tokenizer, options, quiet):
    """A live view shows the losses: the Trainer's own bars and loss tables would repeat them."""
    if options.get("monitor") == "view":
        options = {"monitor": nbc.TrainingMonitor()}
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=1, report_to=[], use_cpu=True)
    callback = nbc.CondensationCallback(["one text to measure"], tokenizer, every_n_steps=1, **options)
    trainer = nbc.DispersionTrainer(model=tiny_lm(), args=args, train_dataset=Blocks(tokenizer, n=4),
                                    callbacks=[callback])
    assert (progress_callbacks(trainer) == []) == quiet, progress_callbacks(trainer)


def test_the_tutorials_tiny_models_name_their_loss(caplog):
    """GPT2LMHeadModel's class name names no loss: transformers warns "loss_type=None ... unrecognized" once
    per process unless the model says which loss it uses."""
    from transformers import AutoModelForCausalLM
    from transformers.loss.loss_utils import LOSS_MAPPING

    from nb_condense.training.lab import tiny_gpt2, tiny_llama

    config = AutoConfig.for_model("gpt2", n_layer=1, n_embd=16, n_head=2, vocab_size=300)
    assert AutoModelForCausalLM.from_config(config).loss_type not in LOSS_MAPPING  # transformers alone: the warning
    for model in (tiny_lm(), tiny_gpt2(n_layer=1, n_embd=16, n_head=2, vocab_size=300),
                  tiny_llama(n_layer=1, hidden_size=16, n_head=2, vocab_size=300)):
        assert model.loss_type in LOSS_MAPPING and model.loss_function is LOSS_MAPPING["ForCausalLM"]
