"""What each tutorial notebook runs: presets, expected time and downloads, memory peak, low-memory set.

The low-memory set is what a notebook switches to under a memory limit (Binder's 2 GB, for instance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OnAccelerator:
    """A preset value that depends on the device: ``value`` on a GPU (or MPS), ``cpu_value`` on the CPU."""

    value: Any
    cpu_value: Any

    def resolve(self, device: str) -> Any:
        """The value for ``device``."""
        return self.cpu_value if device == "cpu" else self.value


@dataclass(frozen=True)
class Estimate:
    """Expected cost of one preset on a 2-core CPU.

    Attributes
    ----------
    compute_min : float
        Minutes of computing, every cell and solution included, rounded up: timed by
        ``benchmarks/time_tutorials.py`` (with stand-in models of the same architecture where a notebook loads hub
        models), or, for a few presets the notebook header says so, scaled from a timed one.
    download_gb : float
        Gigabytes downloaded from the Hugging Face hub (models and corpora); 0 when nothing is downloaded.
    download_min : float
        Minutes of downloading (at 10 MB/s) and preparing the corpora (wikitext-103 is converted once, about a
        minute): an estimate, not timed; cached after the first run.
    """

    compute_min: float
    download_gb: float
    download_min: float


@dataclass(frozen=True)
class LessonPlan:
    """One notebook's presets and costs.

    Attributes
    ----------
    presets : dict
        Preset name -> the parameter values it sets (a value set in the parameters cell wins).
    estimates : dict
        Preset name -> :class:`Estimate`.
    class_peak_gb : float
        Peak resident memory of the ``class`` preset (measured with stand-in models).
    low_memory : dict
        Values that replace the ``class`` preset's under a memory limit below ``class_peak_gb`` or on Binder
        (empty: the notebook fits as it is).
    low_memory_peak_gb : float or None
        Peak memory with ``low_memory`` applied.
    offline : dict
        Values that make the notebook run with nothing to download (empty: it has no offline set). The setup
        announces no download when they are chosen, and a failed download names them.
    """

    presets: dict[str, dict[str, Any]]
    estimates: dict[str, Estimate]
    class_peak_gb: float
    low_memory: dict[str, Any] = field(default_factory=dict)
    low_memory_peak_gb: float | None = None
    offline: dict[str, Any] = field(default_factory=dict)


_LAB = dict(N_LAYER=6, N_EMBD=128, N_HEAD=4, BLOCK_SIZE=128, VOCAB_SIZE=4096)
_PUBLIC_PAIR = [["deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "Qwen/Qwen2.5-Math-1.5B"]]
_03 = dict(MODEL="random:gpt2", TOKENIZER="gpt2", DATASET="wikipedia", MAX_LENGTH=512, TRAIN_TEXTS=300,
           MEASURE_EVERY=50, N_LAYER=6, N_EMBD=128, N_HEAD=4, BLOCK_SIZE=128, VOCAB_SIZE=4096,
           PYTHIA="EleutherAI/pythia-160m", OTHER_ARCHITECTURE="random:HuggingFaceTB/SmolLM2-135M",
           OTHER_TOKENIZER="HuggingFaceTB/SmolLM2-135M")

LESSONS: dict[str, LessonPlan] = {
    "00_quickstart": LessonPlan(
        presets={
            "class": dict(MODEL="gpt2", DATASET="wikipedia", N_TEXTS=30, MAX_LENGTH=512, SHORT_LENGTH=64),
            "paper": dict(MODEL="gpt2", DATASET="wikipedia", N_TEXTS=100, MAX_LENGTH=512, SHORT_LENGTH=64),
        },
        estimates={"class": Estimate(2, 0.9, 3), "paper": Estimate(6, 0.9, 3)},
        class_peak_gb=1.7,
        low_memory=dict(MODEL="embedded", DATASET="builtin"),
        low_memory_peak_gb=0.9,
        offline=dict(MODEL="embedded", DATASET="builtin"),
    ),
    "01_larger_models_condense_less": LessonPlan(
        presets={
            "class": dict(MODELS=["gpt2", "gpt2-medium"], DATASET="wikipedia", N_TEXTS=30, MAX_LENGTH=512,
                          CORPORA=["pubmed", "imdb"], ROBUSTNESS_TEXTS=10,
                          OTHER_FAMILY=["EleutherAI/pythia-70m", "EleutherAI/pythia-410m"], OTHER_TEXTS=10),
            "paper": dict(MODELS=["gpt2", "gpt2-medium", "gpt2-large"], DATASET="wikipedia", N_TEXTS=100,
                          MAX_LENGTH=512, CORPORA=["wikipedia", "pubmed", "imdb", "squad"], ROBUSTNESS_TEXTS=30,
                          OTHER_FAMILY=["Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-1.5B"], OTHER_TEXTS=30),
        },
        estimates={"class": Estimate(4, 3.6, 8), "paper": Estimate(45, 9.9, 18)},
        class_peak_gb=4.5,
        low_memory=dict(MODELS=["distilgpt2", "gpt2"],
                        OTHER_FAMILY=["EleutherAI/pythia-70m", "EleutherAI/pythia-160m"]),
        low_memory_peak_gb=2.1,
    ),
    "02_controlled_mlp_width": LessonPlan(
        presets={
            "class": dict(_LAB, WIDTHS=[32, 128, 512, 2048], STEPS=150, N_TEXTS=300, MEASURE_TEXTS=20, N_SEEDS=2),
            "long": dict(_LAB, WIDTHS=[32, 128, 512, 2048], STEPS=400, N_TEXTS=400, MEASURE_TEXTS=30, N_SEEDS=3),
        },
        estimates={"class": Estimate(10, 0, 0), "long": Estimate(40, 0, 0)},
        class_peak_gb=1.4,
    ),
    "03_condensation_at_initialisation": LessonPlan(
        presets={
            "class": dict(_03, N_TEXTS=20, TRAIN_STEPS=200, MEASURE_TEXTS=20, PYTHIA_TEXTS=10,
                          PYTHIA_REVISIONS=["step0", "step1000", "step143000"]),
            "long": dict(_03, N_TEXTS=50, TRAIN_STEPS=300, MEASURE_TEXTS=20, PYTHIA_TEXTS=30,
                         PYTHIA_REVISIONS=["step0", "step1000", "step8000", "step33000", "step143000"]),
        },
        estimates={"class": Estimate(3, 1.3, 3), "long": Estimate(5, 2.1, 5)},
        class_peak_gb=1.6,
    ),
    "04_distillation": LessonPlan(
        presets={
            "class": dict(_LAB, PAIRS=OnAccelerator(_PUBLIC_PAIR, []), DATASET="wikipedia", N_TEXTS=30,
                          MAX_LENGTH=512, TEACHER_WIDTH=1024, STUDENT_WIDTH=32, TEMPERATURE=2.0, ALPHA=0.5,
                          STEPS=150, N_TEXTS_TRAIN=300, MEASURE_TEXTS=20, N_SEEDS=2),
            "paper": dict(_LAB, PAIRS=_PUBLIC_PAIR, DATASET="wikipedia", N_TEXTS=30, MAX_LENGTH=512,
                          TEACHER_WIDTH=1024, STUDENT_WIDTH=32, TEMPERATURE=2.0, ALPHA=0.5, STEPS=300,
                          N_TEXTS_TRAIN=400, MEASURE_TEXTS=30, N_SEEDS=3),
        },
        estimates={"class": Estimate(5, 0, 0), "paper": Estimate(35, 6.6, 12)},
        class_peak_gb=1.0,
    ),
    "05_dispersion_loss": LessonPlan(
        presets={
            "class": dict(_LAB, STEPS=120, N_TEXTS=300, MEASURE_TEXTS=20, FORGET_EVERY=80, LIVE_EVERY=20,
                          N_SEEDS=2),
            "long": dict(_LAB, STEPS=300, N_TEXTS=400, MEASURE_TEXTS=30, FORGET_EVERY=150, LIVE_EVERY=50,
                         N_SEEDS=3),
        },
        estimates={"class": Estimate(7, 0, 0), "long": Estimate(25, 0, 0)},
        class_peak_gb=1.0,
    ),
}


def lesson_plan(notebook: str) -> LessonPlan:
    """The plan of ``notebook`` (its file name, with or without ``.ipynb``)."""
    name = notebook.removesuffix(".ipynb")
    if name not in LESSONS:
        raise ValueError(f"No tutorial named {notebook!r}: the tutorials are {sorted(LESSONS)}.")
    return LESSONS[name]
