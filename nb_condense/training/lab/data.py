"""The lab's data: a byte-level BPE tokenizer trained on the texts, and the texts packed into language-model blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transformers import PreTrainedTokenizerFast

__all__ = ["EOS", "lm_blocks", "train_tokenizer"]

EOS = "<|endoftext|>"


def train_tokenizer(texts: Sequence[str], vocab_size: int = 4096) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on ``texts`` (id 0 = ``<|endoftext|>``, also used as pad)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if vocab_size < 260:
        raise ValueError(f"vocab_size must be >= 260 (256 bytes + specials), got {vocab_size}.")
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    core.train_from_iterator(list(texts), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=core, eos_token=EOS, bos_token=EOS, pad_token=EOS,
                                   unk_token=EOS)


def lm_blocks(texts: Sequence[str], tokenizer: Any, block_size: int = 128) -> Any:
    """Packed language-model blocks (a ``datasets.Dataset``): texts joined with EOS, cut into ``block_size`` tokens."""
    import datasets

    eos = tokenizer.eos_token_id
    ids: list[int] = []
    for row in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        ids.extend(row)
        if eos is not None:
            ids.append(eos)
    n_blocks = len(ids) // block_size
    if n_blocks == 0:
        raise ValueError(f"The texts give {len(ids)} tokens, fewer than one block of {block_size}: add text.")
    blocks = [ids[i * block_size : (i + 1) * block_size] for i in range(n_blocks)]
    return datasets.Dataset.from_dict(
        {"input_ids": blocks, "attention_mask": [[1] * block_size] * n_blocks, "labels": blocks}
    ).with_format("torch")
