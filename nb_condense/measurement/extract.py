"""Batched forward passes that yield each text's hidden states, pads removed.

Works with any Hugging Face model whose forward accepts ``output_hidden_states=True``: decoders,
encoders, and encoder-decoders (their **encoder** is measured). Texts are tokenized without padding,
sorted by length, and padded on the right into batches with an attention mask, so no pad token is
needed and the user's tokenizer is never modified. Inputs go to the device of the model's input
embeddings; the model's device, dtype and train/eval state are left as they were.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from ..core.layer_selection import resolve_layers

if TYPE_CHECKING:  # transformers is imported where a model is loaded, not here
    from transformers import PreTrainedTokenizerBase

logger = logging.getLogger("nb_condense")

__all__ = [
    "HiddenStates",
    "auto_batch_size",
    "default_batch_size",
    "input_device",
    "is_out_of_memory",
    "iter_hidden_states",
    "max_positions",
    "tokenize_texts",
]


def input_device(model: torch.nn.Module) -> torch.device:
    """Device of the model's input embeddings (where the token ids must go)."""
    get = getattr(model, "get_input_embeddings", None)
    embeddings = get() if callable(get) else None
    weight = getattr(embeddings, "weight", None)
    if isinstance(weight, torch.Tensor):
        return weight.device
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def max_positions(model: torch.nn.Module) -> int | None:
    """Longest sequence the model has position embeddings for, or None when it does not say."""
    config = getattr(model, "config", None)
    for name in ("n_positions", "max_position_embeddings"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


TOKENIZE_CHUNK = 32
"""Texts tokenized per call: bounds the tokenizer's transient memory (it sees whole texts before truncating)."""


def tokenize_texts(tokenizer: PreTrainedTokenizerBase, texts: Sequence[str],
                   max_length: int) -> list[dict[str, torch.Tensor]]:
    """Token ids (and the tokenizer's other inputs) of each text, truncated to ``max_length``, unpadded.

    Each text becomes a dict of 1-D int64 tensors (``input_ids``, maybe ``token_type_ids``).
    """
    out: list[dict[str, torch.Tensor]] = []
    for start in range(0, len(texts), TOKENIZE_CHUNK):
        chunk = list(texts[start : start + TOKENIZE_CHUNK])
        encoded = tokenizer(chunk, truncation=True, max_length=max_length, padding=False)
        keys = [k for k in encoded if k in ("input_ids", "token_type_ids")]
        out.extend({k: torch.tensor(encoded[k][i], dtype=torch.long) for k in keys} for i in range(len(chunk)))
    return out


CPU_BATCH_SIZE = 1
"""Default on a CPU: one 512-token text already fills the matrix units; batches of 4-8 measured slower."""
ACCELERATOR_BATCH_SIZE = 8


def default_batch_size(model: torch.nn.Module) -> int:
    """8 texts per forward pass on an accelerator, 1 on a CPU."""
    return CPU_BATCH_SIZE if input_device(model).type == "cpu" else ACCELERATOR_BATCH_SIZE


ACTIVATION_FACTOR = 4
"""Activation memory per hidden state kept, relative to the hidden states themselves (MLP, attention, copies)."""


def auto_batch_size(model: torch.nn.Module, max_length: int, free_bytes: int | None = None) -> int:
    """Texts per forward pass that fit half of the free accelerator memory (1 on a CPU, at most 64).

    Estimate per text: ``(layers + 1) x max_length x hidden x bytes x 4`` plus one attention map
    ``heads x max_length^2 x bytes``. An out-of-memory error still halves the batch and retries.
    """
    device = input_device(model)
    if free_bytes is None:
        if device.type != "cuda":
            return CPU_BATCH_SIZE
        free_bytes, _ = torch.cuda.mem_get_info(device)
    config = getattr(model, "config", None)
    hidden = int(getattr(config, "hidden_size", 0) or getattr(config, "d_model", 0) or 1024)
    layers = int(getattr(config, "num_hidden_layers", 0) or getattr(config, "num_layers", 0) or 24)
    heads = int(getattr(config, "num_attention_heads", 0) or getattr(config, "num_heads", 0) or 16)
    element = next(model.parameters()).element_size()
    per_text = (layers + 1) * max_length * hidden * element * ACTIVATION_FACTOR + heads * max_length**2 * element
    return int(min(64, max(1, free_bytes * 0.5 // per_text)))



@dataclass
class HiddenStates:
    """One batch of texts after the forward pass.

    ``layers[k]`` is ``[batch, seq, dim]`` on the model's device (right-padded); use
    :meth:`text` to get one text's ``[layer, tokens, dim]`` stack without its pad positions.
    """

    text_indices: list[int]
    lengths: list[int]
    layers: list[torch.Tensor]
    layer_indices: list[int]
    n_entries: int
    """Hidden-state entries the model returned (plus the logits entry when asked for)."""
    batch_size: int = 0
    """Texts per forward pass when this batch ran (smaller than asked after an out-of-memory retry)."""

    def text(self, position: int) -> list[torch.Tensor]:
        """Per-layer hidden states ``[n_tokens, dim]`` of the ``position``-th text of the batch, pads dropped.

        Widths can differ between entries (the logits "layer" is as wide as the vocabulary).
        """
        n = self.lengths[position]
        return [h[position, :n] for h in self.layers]


def _collate(encodings: list[dict[str, torch.Tensor]], pad_id: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Right-pad a batch; the attention mask marks the real tokens."""
    lengths = [len(e["input_ids"]) for e in encodings]
    width = max(lengths)
    batch = {
        key: torch.full((len(encodings), width), pad_id if key == "input_ids" else 0, dtype=torch.long)
        for key in encodings[0]
    }
    batch["attention_mask"] = torch.zeros((len(encodings), width), dtype=torch.long)
    for row, (encoding, n) in enumerate(zip(encodings, lengths)):
        for key, values in encoding.items():
            batch[key][row, :n] = values
        batch["attention_mask"][row, :n] = 1
    return {k: v.to(device) for k, v in batch.items()}


@contextlib.contextmanager
def _eval_mode(model: torch.nn.Module) -> Iterator[None]:
    """Put every submodule in eval mode, then restore each one's own flag (mixed modes survive)."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


_ACCEPTS: weakref.WeakKeyDictionary[torch.nn.Module, dict[tuple[Any, str], bool]] = weakref.WeakKeyDictionary()
"""Per module and forward function, whether it takes an argument: read once (a signature costs ~0.1 ms, every
batch). Keyed on the function too, so a forward replaced later (hooks, patches) is read again."""


def _accepts(module: torch.nn.Module, name: str) -> bool:
    forward = module.forward
    key = (getattr(forward, "__func__", forward), name)
    known = _ACCEPTS.setdefault(module, {})
    if key not in known:
        try:
            known[key] = name in inspect.signature(forward).parameters
        except (TypeError, ValueError):
            known[key] = False
    return known[key]


def _forward(model: torch.nn.Module, batch: dict[str, torch.Tensor], include_logits_layer: bool) -> list[torch.Tensor]:
    config = getattr(model, "config", None)
    runner: Any = model
    if getattr(config, "is_encoder_decoder", False):
        if include_logits_layer:
            raise ValueError(
                "include_logits_layer=True is not supported for encoder-decoder models: only the encoder "
                "is measured and it has no logits."
            )
        runner = model.get_encoder()  # type: ignore[operator]
    kwargs: dict[str, Any] = {"output_hidden_states": True, "return_dict": True}
    if _accepts(runner, "use_cache"):
        kwargs["use_cache"] = False
    inputs = {k: v for k, v in batch.items() if k != "token_type_ids" or _accepts(runner, k)}
    outputs = runner(**inputs, **kwargs)
    hidden = getattr(outputs, "hidden_states", None)
    if not hidden:
        raise ValueError(
            f"{type(model).__name__} returned no hidden states with output_hidden_states=True. "
            "Load a Hugging Face transformer (AutoModel / AutoModelForCausalLM) that supports it."
        )
    layers = list(hidden)
    if include_logits_layer:
        logits = getattr(outputs, "logits", None)
        if logits is None:
            raise ValueError(
                f"include_logits_layer=True, but {type(model).__name__} returns no logits. Load the model "
                "with a language-model head (e.g. AutoModelForCausalLM) or set include_logits_layer=False."
            )
        layers.append(logits)
    return layers


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is an accelerator out-of-memory error (the batch can be retried smaller)."""
    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(error, oom):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


def iter_hidden_states(
    model: torch.nn.Module,
    encodings: list[dict[str, torch.Tensor]],
    *,
    pad_token_id: int | None = None,
    batch_size: int = 8,
    layers: Sequence[int] | None = None,
    include_logits_layer: bool = False,
) -> Iterator[HiddenStates]:
    """Run the model over pre-tokenized texts in batches, longest first; yield each batch's hidden states.

    ``layers`` selects hidden-state indices (the logits "layer", when included, comes last). Batches
    come in length order; ``HiddenStates.text_indices`` maps them back to positions in ``encodings``.
    On an out-of-memory error the batch is retried with half as many texts (down to one), and the
    smaller size is kept for the rest of the run; ``HiddenStates.batch_size`` says what ran.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
    device = input_device(model)
    pad = 0 if pad_token_id is None else pad_token_id
    order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i]["input_ids"]))
    keep: list[int] | None = None
    size, start = batch_size, 0
    with _eval_mode(model), torch.inference_mode():
        while start < len(order):
            indices = order[start : start + size]
            chunk = [encodings[i] for i in indices]
            try:
                outputs = _forward(model, _collate(chunk, pad, device), include_logits_layer)
            except Exception as error:  # noqa: BLE001 - only out-of-memory errors are retried
                if size == 1 or not is_out_of_memory(error):
                    raise
                size = max(1, size // 2)
                logger.warning("Out of memory with %d texts per batch; retrying with %d.", len(indices), size)
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                continue
            start += len(indices)
            if keep is None:
                keep = resolve_layers(layers, len(outputs))
            yield HiddenStates(
                text_indices=indices,
                lengths=[len(e["input_ids"]) for e in chunk],
                layers=[outputs[k] for k in keep],
                layer_indices=keep,
                n_entries=len(outputs),
                batch_size=size,
            )
            del outputs
