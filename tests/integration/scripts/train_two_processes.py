"""Run by tests/integration/test_distributed.py under torchrun with 2 CPU processes."""

import json
import os
import sys

import torch
from transformers import TrainingArguments

import nb_condense as nbc
from nb_condense import training
from nb_condense.measurement.models import load_tokenizer


def main() -> None:
    out = sys.argv[1]
    torch.set_num_threads(1)
    texts = nbc.sample_texts("builtin", 12, min_word_count=60, max_word_count=120)
    tokenizer = load_tokenizer("embedded")
    model = training.tiny_gpt2(n_layer=2, n_embd=32, n_head=2, vocab_size=30522, n_positions=64)
    callback = nbc.CondensationCallback(texts[:3], tokenizer, every_n_steps=2, max_length=32)
    args = TrainingArguments(output_dir=out, per_device_train_batch_size=2, max_steps=4, logging_steps=1, report_to=[],
                             save_strategy="no", use_cpu=True, seed=0, disable_tqdm=True, dataloader_pin_memory=False)
    trainer = nbc.DispersionTrainer(model=model, args=args, train_dataset=training.lm_blocks(texts, tokenizer, 32),
                                    dispersion_coeff=0.1, callbacks=[callback])
    trainer.train()
    rank = int(os.environ.get("RANK", 0))
    with open(f"{out}/rank{rank}.json", "w") as handle:
        json.dump({"world": trainer.args.world_size, "log_history": trainer.state.log_history,
                   "callback_steps": sorted(callback.history["step"].unique().tolist())}, handle)


if __name__ == "__main__":
    main()
