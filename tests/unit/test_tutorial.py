"""nb_condense.tutorial: the exercise checks (right answers pass, each known mistake gets its hint), the platform
guards (fake google.colab, fake cgroup files, fake Binder), the preset setup, the verdicts and the glossary."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from nb_condense import tutorial
from nb_condense.tutorial import checks
from nb_condense.tutorial.checks import _harness, losses, statistics

ROOT = Path(__file__).resolve().parents[2]


# ----- the exercise checks: every solution passes, every listed mistake fails on every draw ---------------------
#
# A battery per check: each wrong answer a student is likely to write (one per hint the check names), plus a constant
# answer. Each must fail on every one of DRAWS seeded draws, with its hint; each reference solution from
# tutorial.solutions must pass on all of them. Issue 30: the old 05 checks let a plain clamp pass always (forward
# only), "tau as a multiplier" or a hard-coded clamp pass about 1 time in 8, and `0 for n >= 50` pass the floor check.

DRAWS = int(__import__('os').environ.get('NBC_DRAWS', 200))
S = tutorial.solutions


def _unit(h):
    return torch.nn.functional.normalize(h.double(), dim=-1)


def lmc_with_diagonal(hidden):
    return np.array([float((_unit(h[0]) @ _unit(h[0]).T).mean()) for h in hidden])


def lmc_dots(hidden):
    out = []
    for h in hidden:
        z = h[0].double()
        n = z.shape[0]
        out.append(float(((z @ z.T).sum() - (z * z).sum()) / (n * (n - 1))))
    return np.array(out)


def lmc_dim0(hidden):
    out = []
    for h in hidden:
        z = torch.nn.functional.normalize(h[0].double(), dim=0)
        n = z.shape[0]
        out.append(float(((z @ z.T).sum() - (z * z).sum()) / (n * (n - 1))))
    return np.array(out)


def masked_ignoring_mask(hidden, mask):
    return S.masked_layer_means(hidden, torch.ones_like(mask))


def masked_rows_only(hidden, mask):
    out = []
    for h in hidden:
        z = _unit(h)
        cos = z @ z.transpose(1, 2)
        row = mask.double()[:, :, None]
        n, s = mask.sum(1).double(), mask.shape[1]
        out.append(((cos * row).sum((1, 2)) - n) / (n * (s - 1)))
    return torch.stack(out, 1).numpy()


def masked_padded_count(hidden, mask):
    n, s = mask.sum(1).double(), mask.shape[1]
    return S.masked_layer_means(hidden, mask) * (n * (n - 1) / (s * (s - 1)))[:, None].numpy()


def masked_with_diagonal(hidden, mask):
    n = mask.sum(1).double()[:, None].numpy()
    return (S.masked_layer_means(hidden, mask) * n * (n - 1) + n) / (n * n)


def bootstrap_unweighted(means, pairs, indices, ci=0.95):
    return S.bootstrap_interval(means, np.ones_like(pairs), indices, ci)


def bootstrap_levels(levels):
    def wrong(means, pairs, indices, ci=0.95):
        pooled = (means[indices] * pairs[indices]).sum(1) / pairs[indices].sum(1)
        return tuple(np.quantile(pooled, levels(ci)))
    return wrong


def bootstrap_normal(means, pairs, indices, ci=0.95):
    pooled = (means[indices] * pairs[indices]).sum(1) / pairs[indices].sum(1)
    return pooled.mean() - 1.96 * pooled.std(), pooled.mean() + 1.96 * pooled.std()


def bootstrap_of_values(means, pairs, indices, ci=0.95):
    return tuple(np.quantile(means, [(1 - ci) / 2, (1 + ci) / 2]))


def perplexity_unshifted(logits, ids):
    return math.exp(float(torch.nn.functional.cross_entropy(logits.flatten(0, 1), ids.flatten())))


def perplexity_variant(kind):
    def wrong(logits, ids):
        ce = torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), ids[:, 1:].flatten(), reduction="none")
        return {"no_exp": float(ce.mean()), "sum": math.exp(float(ce.sum())), "base2": 2 ** float(ce.mean()),
                "per_sequence": float(ce.view(ids.shape[0], -1).mean(1).exp().mean())}[kind]
    return wrong


def change_subtracting_intervals(before, after, indices, ci=0.95):
    a = np.quantile(after[indices].mean(1), [(1 - ci) / 2, (1 + ci) / 2])
    b = np.quantile(before[indices].mean(1), [(1 - ci) / 2, (1 + ci) / 2])
    return a[0] - b[1], a[1] - b[0]


def change_unpaired(before, after, indices, ci=0.95):
    other = np.random.default_rng(0).integers(0, len(before), size=indices.shape)
    values = after[indices].mean(1) - before[other].mean(1)
    return tuple(np.quantile(values, [(1 - ci) / 2, (1 + ci) / 2]))


def rho_unsorted(history):
    from scipy.stats import spearmanr

    return np.array([spearmanr(np.arange(len(g)), g["mean"])[0] for _, g in history.groupby("step")])


def rho_pearson(history):
    return np.array([np.corrcoef(g.sort_values("layer")["layer"], g.sort_values("layer")["mean"])[0, 1]
                     for _, g in history.groupby("step")])


def angular(tau_power=-1.0, straight=True, diagonal=False, mean=True, sign=-1.0, scale=1 / math.pi, add_eps=True,
            clamp_on=True, fixed=None):
    """The angular spread written with one likely mistake (the tests' own code, not the check's)."""
    def wrong(z, tau=1.0, eps=1e-2, clamp=0.25):
        tau, eps, clamp = {"tau": tau, "eps": eps, "clamp": clamp, **(fixed or {})}.values()
        unit = z / (z.norm(dim=-1, keepdim=True) + eps)
        cos = unit @ unit.T
        if clamp_on and straight:
            cos = cos + (cos.clamp(-1 + clamp, 1 - clamp) - cos).detach()
        elif clamp_on:
            cos = cos.clamp(-1 + clamp, 1 - clamp)
        else:
            cos = cos.clamp(-1 + 1e-7, 1 - 1e-7)
        values = sign * torch.arccos(cos) * scale * tau**tau_power
        n = z.shape[0]
        chosen = values.reshape(-1) if diagonal else values[~torch.eye(n, dtype=torch.bool)]
        out = torch.logsumexp(chosen, 0) - (math.log(chosen.numel()) if mean else 0.0)
        return out + eps if add_eps else out
    return wrong


def kd(kind):
    def wrong(student, teacher, t):
        log_s, log_t = torch.log_softmax(student / t, -1), torch.log_softmax(teacher / t, -1)
        per_token = (log_t.exp() * (log_t - log_s)).sum(-1)
        if kind == "reverse":
            return (log_s.exp() * (log_s - log_t)).sum(-1).mean() * t * t
        if kind == "unsoftened":
            ps, pt = torch.log_softmax(student, -1), torch.log_softmax(teacher, -1)
            return (pt.exp() * (pt - ps)).sum(-1).mean() * t * t
        return {"unscaled": per_token.mean(), "summed": per_token.sum() * t * t, "scaled_once": per_token.mean() * t,
                "per_vocab": per_token.mean() * t * t / student.shape[-1],
                "kl_div_mean": torch.nn.functional.kl_div(log_s, log_t, log_target=True, reduction="mean") * t * t,
                }[kind]
    return wrong


def objective(kind):
    def wrong(lm, student, teacher, t, alpha):
        loss = S.distillation_loss(student, teacher if kind == "attached" else teacher.detach(), t)
        return {"swapped": (1 - alpha) * lm + alpha * loss, "added": lm + loss,
                "attached": alpha * lm + (1 - alpha) * loss,
                "unscaled": alpha * lm + (1 - alpha) * loss / t**2}[kind]
    return wrong


def entropy(kind):
    def wrong(logits, t):
        scaled = {"plain": logits, "times": logits * t}.get(kind, logits / t)
        p = torch.softmax(scaled.double(), -1)
        h = -(p * torch.log(p)).sum(-1)
        return {"base2": float(h.mean()) / math.log(2), "sum": float(h.sum())}.get(kind, float(h.mean()))
    return wrong


def penalty(kind):
    def wrong(hidden, loss):
        values = torch.stack([loss(h) for h in hidden])
        return {"embedding": values.mean(), "sum": values[1:].sum(), "last": values[-1],
                "no_last": values[1:-1].mean(), "detached": values[1:].mean().detach()}[kind]
    return wrong


def hook(kind):
    def wrong(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs, output_hidden_states=True)
        mask = None if kind == "no_mask" else inputs["attention_mask"]
        hidden = outputs.hidden_states
        values = torch.stack([self.dispersion_loss(h, mask) for h in hidden])
        term = {"embedding": values.mean(), "last": values[-1], "sum": values[1:].sum()}.get(kind, values[1:].mean())
        coeff = 1.0 if kind == "no_coeff" else self.dispersion_coeff
        if kind == "detached":
            term = term.detach()
        add = model.training or kind == "always"
        loss = outputs.loss + coeff * term if add and kind != "no_penalty" else outputs.loss
        return (loss, outputs) if return_outputs else loss
    return wrong


def constant(*args, **kwargs):
    return 0.5


# check -> [(wrong answer, words its hint must contain)]
BATTERIES = {
    "check_layer_mean_cosine": [(lmc_with_diagonal, "off by the diagonal"), (lmc_dots, "dot products"),
                                (lmc_dim0, "dim 0"), (lambda h: float(S.layer_mean_cosine(h).mean()), "one value per")],
    "check_masked_layer_means": [(masked_ignoring_mask, "pads counted"), (masked_rows_only, "columns"),
                                 (masked_padded_count, "padded length"), (masked_with_diagonal, "diagonal"),
                                 (lambda h, m: S.masked_layer_means(h, m).T, "[text, layer]")],
    "check_pooled_layer_means": [(lambda m, n: np.asarray(m).mean(0), "plain mean"),
                                 (lambda m, n: (np.asarray(n)[:, None] * m).sum(0) / np.sum(n), "not by tokens"),
                                 (lambda m, n: (np.asarray(n)[:, None] ** 2 * m).sum(0) / np.sum(np.asarray(n) ** 2),
                                  "S^2"),
                                 (lambda m, n: ((np.asarray(n) * (np.asarray(n) - 1))[:, None] * m).sum(0), "divide")],
    "check_spearman_rho": [(lambda m: -S.spearman_rho(m), "sign"),
                           (lambda m: float(np.corrcoef(np.arange(len(m)), m)[0, 1]), "Pearson"),
                           (lambda m: float(np.corrcoef(np.arange(len(m)), np.argsort(np.argsort(m, kind="stable"),
                                                                                      kind="stable"))[0, 1]), "ties"),
                           (lambda m: 1 - 6 * ((__import__("scipy").stats.rankdata(m) - np.arange(1, len(m) + 1)) ** 2
                                               ).sum() / (len(m) * (len(m) ** 2 - 1)), "not exact")],
    "check_position_averaged": [
        (lambda ms: np.mean([np.pad(m, ((0, 0), (0, max(x.shape[-1] for x in ms) - m.shape[-1]),
                                        (0, max(x.shape[-1] for x in ms) - m.shape[-1]))) for m in ms], 0),
         "number of texts"),
        (lambda ms: S.position_averaged(ms) * (1 - np.eye(max(m.shape[-1] for m in ms))), "keep the diagonal"),
        (lambda ms: np.mean([m[:, :min(x.shape[-1] for x in ms), :min(x.shape[-1] for x in ms)] for m in ms], 0),
         "shortest")],
    "check_last_half_mean": [(lambda m: float(np.mean(m[-(max(1, len(m) // 2) + 1):])), "one layer too many"),
                             (lambda m: float(np.mean(m[-math.ceil(len(m) / 2):])), None),
                             (lambda m: float(np.mean(m[-max(1, (len(m) - 1) // 2):])), None),
                             (lambda m: float(np.mean(m[: max(1, len(m) // 2)])), "deepest"),
                             (lambda m: float(np.mean(m)), "not all of them"),
                             (lambda m: float(np.median(m[-max(1, len(m) // 2):])), "median")],
    "check_bootstrap_interval": [(bootstrap_unweighted, "weight each text"),
                                 (bootstrap_levels(lambda ci: [1 - ci, ci]), "(1 - ci) / 2"),
                                 (bootstrap_levels(lambda ci: [0, ci]), "two-sided"),
                                 (bootstrap_levels(lambda ci: [0.025, 0.975]), "fixed 95"),
                                 (bootstrap_normal, "1.96"), (bootstrap_of_values, "texts' own values")],
    "check_perplexity": [(perplexity_unshifted, "t + 1"), (perplexity_variant("no_exp"), "exp of the mean"),
                         (perplexity_variant("sum"), "not the sum"), (perplexity_variant("base2"), "nats"),
                         (perplexity_variant("per_sequence"), "each sequence")],
    "check_learning_rates": [
        (lambda n, p, r: p * 0.5 * (1 + np.cos(np.pi * np.arange(n) / n)), "warm up first"),
        (lambda n, p, r: S.learning_rates(n, p, math.floor(r * n) / n), "round up"),
        (lambda n, p, r: np.array([p * s / math.ceil(r * n) if s < math.ceil(r * n) else
                                   p * 0.5 * (1 + math.cos(math.pi * s / n)) for s in range(n)]), "starts after"),
        (lambda n, p, r: np.array([p * s / math.ceil(r * n) if s < math.ceil(r * n) else
                                   p * (1 - (s - math.ceil(r * n)) / (n - math.ceil(r * n))) for s in range(n)]),
         "straight line"),
        (lambda n, p, r: np.where(np.arange(n) < math.ceil(r * n), p * (np.arange(n) + 1) / math.ceil(r * n),
                                  S.learning_rates(n, p, r)), "rate 0")],
    "check_change_interval": [(lambda b, a, i, ci=0.95: S.change_interval(a, b, i, ci), "after minus before"),
                              (change_subtracting_intervals, "subtracting two intervals"),
                              (change_unpaired, None)],
    "check_rho_by_step": [(rho_unsorted, "sort each step"), (lambda h: -S.rho_by_step(h), "sign"),
                          (rho_pearson, "Pearson"), (lambda h: S.rho_by_step(h)[::-1], "increasing order")],
    "check_residual_cosine": [(lambda s, r, d: s * s / (s * s + r * r), "does not cancel"),
                              (lambda s, r, d: d * s / (d * s + math.sqrt(d) * r), "squared lengths"),
                              (lambda s, r, d: (d * s) ** 2 / ((d * s) ** 2 + (d * r) ** 2), "adds in squares"),
                              (lambda s, r, d: s * s / (s * s + d * r * r), "grows like depth")],
    "check_distillation_loss": [(kd("unscaled"), "T^2"), (kd("reverse"), "other way"), (kd("unsoftened"), "divide"),
                                (kd("summed"), "do not sum"), (kd("per_vocab"), "vocabulary"),
                                (kd("kl_div_mean"), "vocabulary"), (kd("scaled_once"), "not T"),
                                (lambda s, t, temp: float(S.distillation_loss(s, t, temp)), "connected")],
    "check_distillation_objective": [(objective("swapped"), "alpha weighs"), (objective("added"), "do not add"),
                                     (objective("attached"), "detach"), (objective("unscaled"), "T^2")],
    "check_softened_entropy": [(entropy("plain"), "before the softmax"), (entropy("times"), "do not multiply"),
                               (entropy("base2"), "nats"), (entropy("sum"), "do not sum")],
    "check_angular_spread": [
        (angular(straight=False), "straight-through"), (angular(tau_power=1.0), "do not multiply"),
        (angular(fixed={"clamp": 0.25}), "clamp argument"), (angular(fixed={"clamp": 0.1}), "clamp argument"),
        (angular(fixed={"tau": 1.0}), "tau argument"), (angular(fixed={"eps": 1e-2}), "eps argument"),
        (angular(diagonal=True), "diagonal"), (angular(mean=False), "log-MEAN-exp"), (angular(sign=1.0), "-D/tau"),
        (angular(scale=1.0), "divide by pi"), (angular(clamp_on=False), "before arccos"),
        (angular(add_eps=False), "adds eps"),
        (lambda z, tau=1.0, eps=1e-2, clamp=0.25: S.angular_spread(z, tau, eps, clamp).detach(), "connected")],
    "check_dispersion_penalty": [(penalty("embedding"), "embedding output"), (penalty("sum"), "do not sum"),
                                 (penalty("last"), "only the last"), (penalty("no_last"), "include the last"),
                                 (penalty("detached"), "connected")],
    "check_compute_loss": [(hook("embedding"), "embedding output"), (hook("no_mask"), "attention mask"),
                           (hook("last"), "only the last"), (hook("sum"), "do not sum"), (hook("no_coeff"), "coeff"),
                           (hook("detached"), "in the graph"), (hook("no_penalty"), "add the penalty"),
                           (hook("always"), "training mode only")],
}


def test_every_check_has_a_battery_and_a_solution():
    assert set(BATTERIES) == set(tutorial.ALL_CHECKS) == set(tutorial.solutions.SOLUTIONS)
    assert {name for name in tutorial.__all__ if name.startswith("check_")} == set(tutorial.ALL_CHECKS)


# The edit loop draws a few seeds of each battery; the slow tier draws all DRAWS (the bar: at least 200).
SOME_OR_ALL = [pytest.param(10, id="10-draws"), pytest.param(DRAWS, id="all-draws", marks=pytest.mark.slow)]


@pytest.mark.parametrize("draws", SOME_OR_ALL)
@pytest.mark.parametrize("name", sorted(BATTERIES))
def test_each_solution_passes_every_draw(name, draws, capsys):
    check, solution = tutorial.ALL_CHECKS[name], tutorial.solutions.SOLUTIONS[name]
    for seed in range(draws):
        assert check(solution, seed=seed) is None  # nothing for the notebook to echo after the print
        assert checks.CHECKS[name] == "passed", (seed, checks.CHECKS[name])
    assert capsys.readouterr().out.count(f"All tests in `{name}` passed!") == draws


@pytest.mark.parametrize("draws", SOME_OR_ALL)
@pytest.mark.parametrize("name", sorted(BATTERIES))
def test_each_listed_mistake_and_a_constant_fail_every_draw(name, draws):
    """Every wrong answer of the battery, and a constant, fails on each of DRAWS seeded draws, with its hint."""
    check = tutorial.ALL_CHECKS[name]
    battery = [*BATTERIES[name], (constant, None)]
    for seed in range(draws):
        for wrong, words in battery:
            with pytest.raises(tutorial.ExerciseError, match=f"`{name}`") as error:
                check(wrong, seed=seed)
            assert words is None or words in str(error.value), (seed, words, str(error.value))
            assert checks.CHECKS[name] == str(error.value).split(": ", 1)[1].split(" (expected")[0].rstrip(".")


@pytest.mark.parametrize("name", sorted(BATTERIES))
def test_a_stub_says_not_implemented_and_lets_run_all_go_on(name, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError("your code here")

    assert tutorial.ALL_CHECKS[name](stub) is None  # fresh, unseeded inputs; a stub cell shows the reminder
    out = capsys.readouterr().out
    assert "not implemented yet" in out and "run this cell again" in out
    assert checks.CHECKS[name] == "not implemented"


def test_unseeded_draws_differ():
    first, second = (_harness._cases(losses._draw_angular_spread, None) for _ in range(2))
    assert first[0].kwargs != second[0].kwargs


def test_a_wrong_answer_shows_the_hint_without_the_package_traceback():
    """In IPython (Jupyter's kernel) a wrong answer prints one line: the hint, no traceback of nb_condense."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.user_ns.update(tutorial=tutorial, np=np)
    import io
    from contextlib import redirect_stdout

    printed = io.StringIO()
    with redirect_stdout(printed):
        shell.run_cell("tutorial.check_last_half_mean(lambda means: float(np.mean(means)), seed=3)")
    text = printed.getvalue()
    assert "ExerciseError" in text and "not all of them" in text
    assert "Traceback" not in text and "checks.py" not in text and len(text.strip().splitlines()) == 1


def test_solution_dropdowns_show_each_solutions_source():
    import inspect

    for name, solution in tutorial.solutions.SOLUTIONS.items():
        markdown = tutorial.solutions.solution_markdown(name)
        assert markdown.startswith("<details><summary>") and markdown.endswith("</details>")
        assert inspect.getsource(solution).strip() in markdown


def test_the_distillation_term_is_the_trainers():
    """The reference of check_distillation_loss is what the distillation trainer adds (plain-torch KL here)."""
    from nb_condense.training.lab import distillation_term

    generator = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(2, 3, 7, generator=generator), torch.randn(2, 3, 7, generator=generator)
    p = torch.softmax(teacher / 2, -1)
    by_hand = (p * (p.log() - torch.log_softmax(student / 2, -1))).sum(-1).mean() * 4
    assert float(distillation_term(student, teacher, 2.0)) == pytest.approx(float(by_hand), abs=1e-6)


def test_the_residual_cosine_reference_matches_a_simulation():
    """The closed form behind check_residual_cosine, against vectors actually summed in 20,000 dimensions."""
    rng = np.random.default_rng(0)
    dim, shared, noise, depth = 20_000, 0.8, 1.5, 6
    direction = rng.normal(size=dim)
    direction /= np.linalg.norm(direction)
    tokens = []
    for _ in range(2):
        steps = rng.normal(size=(depth, dim))
        steps *= noise / np.linalg.norm(steps, axis=1, keepdims=True)
        tokens.append(depth * shared * direction + steps.sum(0))
    simulated = tokens[0] @ tokens[1] / np.linalg.norm(tokens[0]) / np.linalg.norm(tokens[1])
    assert simulated == pytest.approx(statistics._simulated_residual_cosine(shared, noise, depth), abs=0.03)


# ----- platform guards --------------------------------------------------------------------------------------


def fake_colab(with_manager: bool) -> tuple[dict, list]:
    calls: list = []
    colab = types.ModuleType("google.colab")
    output = types.ModuleType("google.colab.output")
    if with_manager:
        output.enable_custom_widget_manager = lambda: calls.append("enabled")
    colab.output = output
    return {"google.colab": colab, "google.colab.output": output}, calls


def cgroup(tmp_path: Path, v2: str | None = None, v1: int | None = None) -> Path:
    root = tmp_path / "cgroup"
    root.mkdir(parents=True)
    if v2 is not None:
        (root / "memory.max").write_text(v2 + "\n")
    if v1 is not None:
        (root / "memory").mkdir()
        (root / "memory" / "memory.limit_in_bytes").write_text(f"{v1}\n")
    return root


def test_memory_limit_from_cgroup_v2_and_v1(tmp_path):
    assert tutorial.memory_limit(cgroup(tmp_path / "a", v2=str(2 * 2**30))) == (2.0, "cgroup v2")
    assert tutorial.memory_limit(cgroup(tmp_path / "b", v1=3 * 2**30)) == (3.0, "cgroup v1")
    machine = tutorial.memory_limit(cgroup(tmp_path / "c", v2="max"))  # no limit: the machine's memory
    assert machine[1] in ("psutil", "sysconf") and machine[0] > 0.1
    assert tutorial.memory_limit(cgroup(tmp_path / "d", v1=2**63 - 4096))[1] in ("psutil", "sysconf")


def test_colab_enables_the_custom_widget_manager_when_it_exists():
    modules, calls = fake_colab(with_manager=True)
    assert tutorial.enable_colab_widgets(modules) is True and calls == ["enabled"]
    modules, calls = fake_colab(with_manager=False)
    assert tutorial.enable_colab_widgets(modules) is False and calls == []
    assert tutorial.enable_colab_widgets({}) is False


def namespace_for(notebook: str, **values) -> dict:
    plan = tutorial.lesson_plan(notebook)
    names = {name for preset in plan.presets.values() for name in preset}
    return {"PRESET": "class", **dict.fromkeys(names), **values}


def test_binder_switches_01_to_its_low_memory_set(tmp_path, capsys):
    namespace = namespace_for("01_larger_models_condense_less")
    lesson = tutorial.setup("01_larger_models_condense_less", namespace, device="cpu",
                            environ={"BINDER_LAUNCH_HOST": "https://mybinder.org/"}, modules={},
                            cgroup_root=cgroup(tmp_path, v2=str(2 * 2**30)))
    printed = capsys.readouterr().out
    assert lesson.low_memory and lesson.platform.binder and lesson.platform.memory_gb == 2.0
    assert namespace["MODELS"] == ["distilgpt2", "gpt2"]
    assert namespace["OTHER_FAMILY"] == ["EleutherAI/pythia-70m", "EleutherAI/pythia-160m"]
    assert namespace["N_TEXTS"] == 30 and namespace["DEVICE"] == "cpu"
    assert "Binder" in printed and "2.1 GB" in printed and "Colab" in printed


def test_a_memory_limit_below_the_class_peak_switches_too(tmp_path):
    namespace = namespace_for("01_larger_models_condense_less")
    lesson = tutorial.setup("01_larger_models_condense_less", namespace, device="cpu", environ={}, modules={},
                            cgroup_root=cgroup(tmp_path, v2=str(3 * 2**30)))
    assert lesson.low_memory and namespace["MODELS"] == ["distilgpt2", "gpt2"]


def test_enough_memory_keeps_the_preset_and_the_students_values_win(tmp_path):
    namespace = namespace_for("01_larger_models_condense_less", MODELS=["gpt2"])
    lesson = tutorial.setup("01_larger_models_condense_less", namespace, device="cpu", environ={}, modules={},
                            cgroup_root=cgroup(tmp_path, v2=str(16 * 2**30)))
    assert not lesson.low_memory and namespace["MODELS"] == ["gpt2"]
    assert namespace["OTHER_FAMILY"] == ["EleutherAI/pythia-70m", "EleutherAI/pythia-410m"]


def test_setup_on_colab_turns_on_widgets(tmp_path, capsys):
    modules, calls = fake_colab(with_manager=True)
    lesson = tutorial.setup("05_dispersion_loss", namespace_for("05_dispersion_loss"), device="cpu", environ={},
                            modules=modules, cgroup_root=cgroup(tmp_path, v2="max"))
    assert lesson.platform.colab and lesson.colab_widgets and calls == ["enabled"]
    assert "widgets enabled" in capsys.readouterr().out


def test_the_public_pair_of_04_needs_an_accelerator(tmp_path):
    root = cgroup(tmp_path, v2="max")
    cpu, gpu = namespace_for("04_distillation"), namespace_for("04_distillation")
    tutorial.setup("04_distillation", cpu, device="cpu", environ={}, modules={}, cgroup_root=root)
    tutorial.setup("04_distillation", gpu, device="cuda", environ={}, modules={}, cgroup_root=root)
    assert cpu["PAIRS"] == [] and len(gpu["PAIRS"]) == 1


def test_the_renamed_preset_is_named_in_the_error(tmp_path):
    with pytest.raises(ValueError, match="'long'"):
        tutorial.setup("02_controlled_mlp_width", namespace_for("02_controlled_mlp_width", PRESET="paper"),
                       device="cpu", environ={}, modules={}, cgroup_root=cgroup(tmp_path, v2="max"))


def test_a_missing_parameter_is_named(tmp_path):
    namespace = namespace_for("00_quickstart")
    del namespace["SHORT_LENGTH"]
    with pytest.raises(ValueError, match="SHORT_LENGTH"):
        tutorial.setup("00_quickstart", namespace, device="cpu", environ={}, modules={},
                       cgroup_root=cgroup(tmp_path, v2="max"))


def test_the_setup_printout_is_at_most_four_lines_everywhere(tmp_path, capsys):
    """Issue 30: the setup printout listed every parameter. Binder + Colab + a tight limit is the longest case."""
    modules, _ = fake_colab(with_manager=False)
    for notebook in tutorial.LESSONS:
        for environ, limit in (({}, "max"), ({"BINDER_LAUNCH_HOST": "https://mybinder.org/"}, str(2 * 2**30)),
                               ({}, str(2**29))):
            tutorial.setup(notebook, namespace_for(notebook), device="cpu", environ=environ, modules=modules,
                           cgroup_root=cgroup(tmp_path / f"{notebook}{len(environ)}{limit}", v2=limit))
            printed = capsys.readouterr().out
            assert 1 <= len(printed.rstrip("\n").splitlines()) <= 4, printed


def test_the_offline_set_announces_no_download(tmp_path, capsys):
    """00 [3] announced "download 0.9 GB" after switching to the embedded model and the builtin corpus."""
    root = cgroup(tmp_path, v2="max")
    tutorial.setup("00_quickstart", namespace_for("00_quickstart", MODEL="embedded", DATASET="builtin"),
                   device="cpu", environ={}, modules={}, cgroup_root=root)
    offline = capsys.readouterr().out
    tutorial.setup("00_quickstart", namespace_for("00_quickstart"), device="cpu", environ={}, modules={},
                   cgroup_root=root)
    online = capsys.readouterr().out
    assert "0.9 GB" in online and "0.9 GB" not in offline and "nothing to download" in offline


def test_a_failed_download_says_how_to_go_offline_in_one_short_message():
    """00 [6] failed offline with a 170-line traceback: the hint names the offline set in a few lines; an
    unrelated error (a missing local file) gets no hint."""
    cause = OSError("Max retries exceeded with url: /gpt2/resolve/main/config.json (Temporary failure in name "
                    "resolution)")
    error = OSError("We couldn't connect to 'https://huggingface.co' to load the files of gpt2.")
    error.__cause__ = cause
    hint = tutorial.download_hint(error, "00_quickstart")
    assert hint is not None and len(hint.splitlines()) <= 3
    assert 'MODEL = "embedded"' in hint and 'DATASET = "builtin"' in hint
    other = tutorial.download_hint(error, "02_controlled_mlp_width")
    assert other is not None and "embedded" not in other  # no offline set there: say where to get the files
    assert tutorial.download_hint(FileNotFoundError("no such file: my_model/config.json"), "00_quickstart") is None
    assert tutorial.download_hint(ValueError("huggingface.co"), "00_quickstart") is None


def test_importing_the_tutorial_helpers_imports_no_torch():
    code = "import sys, nb_condense.tutorial; print('torch' in sys.modules or 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


# ----- verdicts -----------------------------------------------------------------------------------------------


class Difference:
    def __init__(self, estimate, interval):
        self.estimate, self.interval, self.reading = estimate, interval, ""


@pytest.mark.parametrize(("interval", "expect", "word"), [
    ((0.1, 0.3), "positive", "agrees"), ((-0.3, -0.1), "positive", "disagrees"),
    ((-0.1, 0.2), "positive", "cannot tell at this size"), ((-0.3, -0.1), "negative", "agrees")])
def test_judge_reads_the_interval_not_the_point(interval, expect, word, capsys):
    verdict = tutorial.judge("claim", Difference(0.05, interval), expect)
    assert verdict.word == word and verdict.interval == interval
    assert f"{interval[0]:+.3f} to {interval[1]:+.3f}" in capsys.readouterr().out


def test_judge_says_the_sample_size_once_and_does_not_repeat_the_difference_turned_round(capsys):
    """04 printed the verdict, then nbc.difference's own reading with the opposite sign and the first seed's label
    ("scratch seed 0 condenses more than teacher ... over 1 and 2 seeds"): one sentence, with its sample size."""
    import nb_condense as nbc

    rng = np.random.default_rng(3)
    texts = [f"text {i}" for i in range(20)]

    def run(level):
        from test_bootstrap import result_of  # tests/unit is on the path (pytest's rootdir-relative import)

        means = np.clip(np.linspace(0.1, level, 4)[None] + rng.normal(0, 0.02, (20, 4)), -1, 1)
        result = result_of(np.full(20, 9), means, np.full((20, 4), 72.0))
        result.texts = texts
        return result

    teacher, scratch = [run(0.2)], [run(0.8), run(0.8)]
    difference = nbc.difference(teacher, scratch)
    verdict = tutorial.judge("the teacher is less condensed than the students", difference, "negative")
    printed = capsys.readouterr().out
    assert verdict.word == "agrees" and printed.count("\n") == 1
    assert difference.reading not in printed and "condenses more" not in printed
    assert f"{difference.estimate:+.3f}" in printed and "20 texts, 1 vs 2 seeds" in printed


def test_against_paper_agrees_disagrees_or_cannot_tell(capsys):
    assert tutorial.against_paper("rho", 0.35, (0.30, 0.45), "rho gpt2").word == "agrees"
    assert tutorial.against_paper("rho", 0.80, (0.70, 0.90), "rho gpt2", ["30 texts"]).word == "disagrees"
    assert tutorial.against_paper("rho", 0.30, (-0.40, 0.90), "rho gpt2").word == "cannot tell at this size"
    printed = capsys.readouterr().out
    assert "30 texts" in printed


def test_against_paper_cites_the_paper_and_its_anchor_never_the_briefing(capsys):
    """Issue 30: printouts cite arXiv 2602.00217 by finding and link to docs/paper_numbers.md, never paper.md."""
    tutorial.against_paper("rho", 0.80, (0.70, 0.90), "rho gpt2")
    printed = capsys.readouterr().out
    assert "arXiv 2602.00217" in printed and "paper_numbers.md#f1-gpt2-wikipedia" in printed
    assert "paper.md" not in printed and "line" not in printed
    assert "real difference" not in printed  # the paper's value has its own sampling noise


def test_an_agreeing_interval_never_holds_two_neighbouring_models(capsys):
    """Issue 30: at resolution 0.5 an "agrees" interval could hold GPT-2 small (+0.39) and medium (-0.06). Over
    many random intervals, every "agrees" must exclude the neighbour's value (with both reading tolerances)."""
    rng = np.random.default_rng(30)
    small, medium = tutorial.PAPER["rho gpt2"], tutorial.PAPER["rho gpt2-medium"]
    agreed = 0
    for _ in range(2000):
        low = rng.uniform(-0.3, 0.45)
        high = low + rng.uniform(0.0, 0.6)
        verdict = tutorial.against_paper("rho", (low + high) / 2, (low, high), "rho gpt2")
        if verdict.word == "agrees":
            agreed += 1
            assert not (low <= medium.value + medium.tolerance and high >= medium.value - medium.tolerance), \
                (low, high)
            assert low <= small.value + small.tolerance and high >= small.value - small.tolerance
    capsys.readouterr()
    assert agreed > 50  # the property was exercised


def test_every_paper_number_has_its_entry_in_paper_numbers_md():
    """Each number the tutorials quote links to an anchor of docs/paper_numbers.md whose entry states the number."""
    import re

    text = (ROOT / "docs" / "paper_numbers.md").read_text()
    anchors = {m.group(1): m.start() for m in re.finditer(r'<a id="([a-z0-9-]+)"></a>', text)}
    starts = sorted(anchors.values()) + [len(text)]
    for key, number in tutorial.PAPER.items():
        assert number.anchor in anchors, key
        start = anchors[number.anchor]
        entry = text[start:starts[starts.index(start) + 1]]
        digits = f"{abs(number.value):.2f}".lstrip("0") if abs(number.value) < 1 else f"{abs(number.value):.2f}"
        assert digits in entry, (key, digits)
        assert "arXiv 2602.00217" in number.quote() and number.anchor in number.quote()


def test_a_zero_width_interval_says_why(capsys):
    """00 [14] and exercise 2 printed "+0.96 to +0.96" with no word on why: every resample gave the same value."""
    verdict = tutorial.judge("rho is positive", tutorial.Measured(1.0, (1.0, 1.0), "spearman_rho"), "positive")
    printed = capsys.readouterr().out
    assert verdict.word == "agrees" and "every resample" in printed
    tutorial.judge("rho is positive", tutorial.Measured(0.5, (0.2, 0.8), "spearman_rho"), "positive")
    assert "every resample" not in capsys.readouterr().out


def test_single_runs_are_flagged_as_one_seed_and_two_seeds_as_too_few(capsys):
    """Issue 30: a single training run or random draw is one seed; 2 seeds cannot estimate the between-seed spread."""
    tutorial.judge("an untrained model condenses", tutorial.Measured(0.9, (0.8, 1.0), "spearman_rho"), "positive",
                   seeded=True)
    assert "one seed" in capsys.readouterr().out
    two = Difference(0.2, (0.1, 0.3))
    two.n_texts, two.n_seeds = (20, 20), (2, 2)
    tutorial.judge("claim", two, "positive")
    printed = capsys.readouterr().out
    assert "2 seeds each" in printed and "cannot estimate the spread between seeds" in printed
    three = Difference(0.2, (0.1, 0.3))
    three.n_texts, three.n_seeds = (20, 20), (3, 3)
    tutorial.judge("claim", three, "positive")
    assert "cannot estimate" not in capsys.readouterr().out
    tutorial.judge("released models differ", Difference(0.2, (0.1, 0.3)), "positive")
    assert "seed" not in capsys.readouterr().out  # released models: no seed to speak of


def test_bootstrap_mean_is_a_percentile_bootstrap_over_items():
    values = np.random.default_rng(1).normal(0.3, 1.0, 40)
    got = tutorial.bootstrap_mean(values, "gap", n_boot=500, seed=7)
    draw = np.random.default_rng(7)
    boot = [values[draw.integers(0, 40, 40)].mean() for _ in range(500)]
    assert got.estimate == pytest.approx(values.mean(), abs=1e-12)
    assert got.interval == pytest.approx(tuple(np.quantile(boot, [0.025, 0.975])), abs=1e-12)
    assert got.name == "gap"


def test_the_paper_definition_rho_has_a_bootstrap_interval():
    """00 [14] and 01 [13] printed the paper-definition rho (position-averaged matrix, diagonal included) with no
    interval. Oracle: real cosine matrices, averaged position by position, then scipy's spearmanr; the interval
    from a plain loop over the documented resamples."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(4)
    n_texts, n_layers, s = 12, 6, 7
    matrices = np.empty((n_texts, n_layers, s, s))
    for t in range(n_texts):
        for layer in range(n_layers):
            z = rng.normal(size=(s, 5)) + layer * rng.uniform(0.0, 0.6) * np.ones(5)
            z /= np.linalg.norm(z, axis=1, keepdims=True)
            matrices[t, layer] = z @ z.T
    off = ~np.eye(s, dtype=bool)
    means = np.array([[m[off].mean() for m in text] for text in matrices])
    result = result_from(means, np.full((n_texts, n_layers), float(s * (s - 1))),
                         [f"t{i}" for i in range(n_texts)])
    result.token_counts = np.full(n_texts, s)
    got = tutorial.paper_definition(result, "spearman_rho", n_boot=300, seed=2)
    averaged = matrices.mean(axis=0).mean(axis=(1, 2))  # the position-averaged matrix's mean, diagonal included
    assert got.estimate == pytest.approx(spearmanr(np.arange(n_layers), averaged)[0], abs=1e-12)
    draw = np.random.default_rng(2)
    counts = draw.multinomial(n_texts, np.full(n_texts, 1 / n_texts), size=300)
    boot = [spearmanr(np.arange(n_layers), (c[:, None] * matrices.mean(axis=(2, 3))).sum(0) / c.sum())[0]
            for c in counts]
    assert got.interval == pytest.approx(tuple(np.nanquantile(boot, [0.025, 0.975])), abs=1e-12)


def test_the_end_of_pretraining_is_not_the_final_checkpoint():
    """Issue 21: -0.46 is OLMo-3's final 'Main' checkpoint; the end of stage 1 is -0.31 (the paper's Finding 3)."""
    table = (ROOT.parent.parent / "shared" / "docs" / "paper.md")
    assert tutorial.PAPER["F3 rho end of pre-training"].value == -0.31
    assert tutorial.PAPER["F3 rho main"].value == -0.46 and "stages 2 and 3" in tutorial.PAPER["F3 rho main"].stage
    if table.exists():  # the briefing's F3 row: the 4th checkpoint closes stage 1, the last is Main
        row = next(line for line in table.read_text().splitlines() if line.startswith("| ρ | 1.0"))
        values = [float(v) for v in row.strip("|").split("|")[1:]]
        assert values[3] == -0.31 and values[-1] == -0.46


def result_from(means: np.ndarray, pairs: np.ndarray, texts: list[str]):
    from nb_condense.core.result import CondensationResult

    n_texts, n_layers = means.shape
    stats = pd.DataFrame({"text": np.repeat(np.arange(n_texts), n_layers), "layer": np.tile(np.arange(n_layers),
                                                                                           n_texts),
                          "n_pairs": pairs.reshape(-1), "mean": means.reshape(-1)})
    return CondensationResult(histograms=np.zeros((n_texts, n_layers, 4), dtype=np.int64), stats=stats,
                              layers=np.arange(n_layers), token_counts=np.full(n_texts, 5), texts=texts)


def test_contrast_is_a_paired_bootstrap_over_texts_and_seeds():
    """Compared with a plain-numpy loop over the same resamples: one text draw shared by every result, one seed
    draw shared by every term, each statistic pair-weighted over texts and taken over the last half."""
    rng = np.random.default_rng(3)
    texts = [f"t{i}" for i in range(9)]
    pairs = rng.integers(6, 60, size=(9, 7)).astype(float)
    runs = [[result_from(rng.uniform(0, 1, (9, 7)), pairs, texts) for _ in range(2)] for _ in range(3)]
    weights = [1.0, -1.0, 0.5]
    got = tutorial.contrast(list(zip(weights, runs)), n_boot=200, seed=5)

    draw = np.random.default_rng(5)
    counts = draw.multinomial(9, np.full(9, 1 / 9), size=200)
    seeds = draw.integers(0, 2, size=(200, 2))

    def last_half(result, weight_of_text):
        m = result.stats["mean"].to_numpy().reshape(9, 7)
        layer_means = (weight_of_text[:, None] * m * pairs).sum(0) / (weight_of_text[:, None] * pairs).sum(0)
        return layer_means[-3:].mean()

    boot = [sum(w * np.mean([last_half(run[s], counts[b]) for s in seeds[b]]) for w, run in zip(weights, runs))
            for b in range(200)]
    point = sum(w * np.mean([last_half(r, np.ones(9)) for r in run]) for w, run in zip(weights, runs))
    assert got.estimate == pytest.approx(point, abs=1e-12)
    assert got.interval == pytest.approx(tuple(np.quantile(boot, [0.025, 0.975])), abs=1e-12)
    assert got.n_seeds == 2 and got.n_texts == 9


def test_contrast_refuses_results_on_other_texts():
    rng = np.random.default_rng(0)
    pairs = np.full((3, 4), 10.0)
    a = result_from(rng.uniform(size=(3, 4)), pairs, ["a", "b", "c"])
    b = result_from(rng.uniform(size=(3, 4)), pairs, ["a", "b", "d"])
    with pytest.raises(ValueError, match="same texts"):
        tutorial.contrast([(1.0, a), (-1.0, b)])


# ----- glossary and record ----------------------------------------------------------------------------------


def test_the_glossary_file_is_the_glossary():
    assert (ROOT / "docs" / "teaching" / "glossary.md").read_text() == tutorial.glossary_markdown()


def test_glossary_links_in_the_notebooks_resolve():
    import re

    import nbformat

    anchors = {tutorial.glossary.anchor(term) for term in tutorial.GLOSSARY}
    linked = set()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            linked |= set(re.findall(r"glossary\.md#([\w-]+)", cell.source))
    assert linked and linked <= anchors


def test_record_writes_plain_values_verdicts_and_checks(tmp_path, monkeypatch):
    monkeypatch.setenv("NB_CONDENSE_RECORD", str(tmp_path / "out.json"))
    tutorial.judge("claim", Difference(0.2, (0.1, 0.3)), "positive")
    shown = tutorial.record({"rho": np.float64(0.5), "table": pd.DataFrame({"a": [1, 2]}), "module": np,
                             "flags": {"x": True}, "_hidden": 1})
    written = json.loads((tmp_path / "out.json").read_text())
    assert shown is None  # the cell shows nothing
    assert written["values"] == {"rho": 0.5, "table": [{"a": 1}, {"a": 2}], "flags": {"x": True}}
    assert written["verdicts"][-1]["word"] == "agrees"


def test_widths_share_their_seed_not_their_weights():
    """Issue 21 (02's claim "the same random state of its shared parts" was wrong): with one seed, no randomly drawn
    weight is equal across MLP widths, not even the embeddings (transformers builds every layer, the MLPs
    included, before it re-draws the weights, so the MLP's shape shifts every later draw); only the constant
    initialisations (biases 0, layer norms 1) agree. What 02 says now."""
    from nb_condense.training.lab import tiny_gpt2

    narrow, wide = (tiny_gpt2(n_layer=2, n_embd=16, n_head=2, n_inner=w, vocab_size=32, seed=0) for w in (8, 64))
    a, b = dict(narrow.named_parameters()), dict(wide.named_parameters())
    same_shape = [k for k in a if a[k].shape == b[k].shape]
    drawn = [k for k in same_shape if a[k].std() > 0]  # randomly drawn (not a constant initialisation)
    assert "transformer.wte.weight" in drawn and "transformer.h.0.attn.c_attn.weight" in drawn
    assert not any(torch.equal(a[k], b[k]) for k in drawn)
    assert all(torch.equal(a[k], b[k]) for k in same_shape if k not in drawn)
    again = tiny_gpt2(n_layer=2, n_embd=16, n_head=2, n_inner=8, vocab_size=32, seed=0)  # but each width repeats
    assert all(torch.equal(p, again.get_parameter(k)) for k, p in a.items())


def test_one_line_progress_empties_the_loss_table_and_prints_ce_beside_the_total(capsys):
    """05 [13] printed a 20-row "Step / Training Loss" table per run, whose "Training Loss" is the total loss
    (at coefficient 10 it read 0.90 against a CE of about 5.9). A callback placed after it saw no "loss"; the run
    ends in one line with the CE beside the total."""
    from transformers import TrainerControl, TrainerState, TrainingArguments

    progress = tutorial.one_line_progress("coeff 10", coeff=10.0)
    state = TrainerState()
    state.global_step = 120
    args, control = TrainingArguments(output_dir="unused", report_to=[]), TrainerControl()
    table: list[dict] = []
    for ce, dispersion in [(6.4, -0.40), (5.9, -0.50)]:
        logs = {"loss": ce + 10 * dispersion, "ce_loss": ce, "dispersion_loss": dispersion, "learning_rate": 1e-3}
        progress.on_log(args, state, control, logs=logs)
        table.append(dict(logs))  # what the Trainer's own progress callback receives next
    progress.on_train_end(args, state, control)
    printed = capsys.readouterr().out
    assert all("loss" not in row for row in table) and all("ce_loss" in row for row in table)
    assert printed.count("\n") == 1
    assert "CE 5.900" in printed and f"final loss {5.9 - 5.0:.3f}" in printed and "10 x dispersion -0.500" in printed


def test_a_lab_run_in_a_notebook_shows_its_bar_and_no_empty_loss_table(monkeypatch):
    """In a notebook the Trainer's progress callback drew its bar over an empty "Step / Training Loss" table under
    each run (the expected outputs of 02, 04 and 05 showed 33 of them): a Lab run keeps the bar, and no table."""
    import transformers.trainer as hf_trainer
    from transformers.utils import notebook

    from nb_condense import sample_texts, training

    shown: list[str] = []

    class Handle:
        def update(self, html) -> None:  # noqa: ANN001
            shown.append(html.data)

    monkeypatch.setattr(notebook.disp, "display", lambda html, display_id=False: shown.append(html.data) or Handle())
    monkeypatch.setattr(hf_trainer, "DEFAULT_PROGRESS_CALLBACK", notebook.NotebookProgressCallback)  # as in Jupyter
    texts = sample_texts("builtin", 6, min_word_count=60, max_word_count=120, seed=0)
    tokenizer = training.train_tokenizer(texts, vocab_size=300)
    lab = tutorial.Lab(texts, texts[:2], tokenizer, n_layer=2, n_embd=16, n_head=2, block_size=16, steps=4, seed=3)
    lab.train(lab.make_model(), dispersion_coeff=0.5)
    assert shown and "<progress" in shown[-1] and "4/4" in shown[-1], shown[-1:]
    assert not [html for html in shown if "<table" in html], shown[-1]


def test_lab_distill_prints_one_line_with_the_distillation_term_beside_the_ce(capsys):
    """04's distilled students printed the Trainer's 20-row table of the total loss (alpha x CE + (1 - alpha) x the
    distillation term): Lab.distill ends each run in one line, with the parts that add up to the total."""
    from nb_condense import sample_texts, training

    texts = sample_texts("builtin", 6, min_word_count=60, max_word_count=120, seed=0)
    tokenizer = training.train_tokenizer(texts, vocab_size=300)
    lab = tutorial.Lab(texts, texts[:2], tokenizer, n_layer=2, n_embd=16, n_head=2, block_size=16, steps=4, seed=3)
    teacher = lab.make_model(n_inner=64, seed=5)
    capsys.readouterr()
    lab.distill(teacher, lab.make_model(), temperature=2.0, alpha=0.25, disable_tqdm=True)
    printed = capsys.readouterr().out.splitlines()
    assert not [line for line in printed if "'loss'" in line], printed  # no total left for a loss table
    (line,) = [line for line in printed if "final loss" in line]
    assert line.startswith("distilled (T 2, alpha 0.25), seed 3: 4 steps; final loss"), line
    total, ce, kd = (float(re.search(rf"{key} (-?[0-9]+\.[0-9]+)", line)[1])
                     for key in ("final loss", "0.25 x CE", "0.75 x distillation"))
    assert total == pytest.approx(0.25 * ce + 0.75 * kd, abs=2e-3) and kd > 0, line


def test_the_expected_outputs_script_says_in_one_line_what_to_install(monkeypatch, capsys, tmp_path):
    """make_expected_outputs.py needs papermill, which only the [test] extra installs: without it, one line."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_expected_outputs",
                                                  ROOT / "docs" / "teaching" / "make_expected_outputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    real = module.find_spec
    monkeypatch.setattr(module, "find_spec", lambda name: None if name == "papermill" else real(name))
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--out", str(tmp_path)])
    error = capsys.readouterr().err
    assert exit_info.value.code == 2 and error.count("\n") == 1 and "nb-condense[test]" in error
    assert "papermill" in error and "nbconvert" not in error
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing written


def test_the_readme_and_the_notebook_headers_give_the_lessons_times():
    """nb_condense/tutorial/lessons.py is the one source of the times: the README's table, the teacher's kit table
    and every notebook header's `class` compute time agree with it (the README once said "not yet re-timed")."""
    import re

    import nbformat

    readme = (ROOT / "README.md").read_text()
    kit = (ROOT / "docs" / "teaching" / "README.md").read_text()
    for name, plan in tutorial.LESSONS.items():
        minutes = f"{plan.estimates['class'].compute_min:g} min"
        header = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4).cells[0].source
        assert re.search(r"`class` ~" + re.escape(minutes), header), name
        row = next(line for line in readme.splitlines() if line.startswith(f"| [`{name}.ipynb`]"))
        assert f"| {minutes} |" in row, row
        kit_row = next(line for line in kit.splitlines() if f"({name}.md)" in line)
        assert f"| {minutes} |" in kit_row, kit_row
    assert "not yet re-timed" not in readme


def test_lab_binds_the_notebooks_helpers():
    """tutorial.Lab: make_model draws the same weights from a seed, on the lab's device; train and evaluate use the
    lab's texts, tokenizer and block size (what notebooks 02, 04 and 05 used to copy)."""
    from nb_condense import sample_texts, training

    texts = sample_texts("builtin", 6, min_word_count=60, max_word_count=120, seed=0)
    held_out = sample_texts("builtin", 3, min_word_count=60, max_word_count=120, seed=1)
    tokenizer = training.train_tokenizer(texts, vocab_size=300)
    lab = tutorial.Lab(texts, held_out, tokenizer, n_layer=2, n_embd=16, n_head=2, block_size=16, steps=2, seed=3)
    first, again, other = lab.make_model(n_inner=8), lab.make_model(n_inner=8), lab.make_model(n_inner=8, seed=4)
    weights = [m.get_input_embeddings().weight for m in (first, again, other)]
    assert torch.equal(weights[0], weights[1]) and not torch.equal(weights[0], weights[2])
    assert first.config.n_layer == 2 and first.config.n_inner == 8 and first.device.type == "cpu"
    before = weights[0].detach().clone()
    trained = lab.train(first, disable_tqdm=True)
    assert not torch.equal(trained.get_input_embeddings().weight.detach(), before)
    row, session = lab.evaluate(trained, "tiny")
    assert session.name == "tiny" and row["perplexity"] == pytest.approx(
        training.perplexity(trained, tokenizer, held_out, 16))


def test_lab_train_prints_one_line_per_run_and_a_callback_before_it_still_sees_the_loss(capsys):
    """The lessons train through Lab.train, which printed the Trainer's 20-row loss table per run (05 [13]): it now
    ends each run in one line (CE beside the total), and a live view passed in ``callbacks`` still reads each loss."""
    from transformers import TrainerCallback

    from nb_condense import sample_texts, training

    class Seen(TrainerCallback):
        def __init__(self) -> None:
            self.losses: list[float] = []

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if logs and "loss" in logs:
                self.losses.append(float(logs["loss"]))

    texts = sample_texts("builtin", 6, min_word_count=60, max_word_count=120, seed=0)
    tokenizer = training.train_tokenizer(texts, vocab_size=300)
    lab = tutorial.Lab(texts, texts[:2], tokenizer, n_layer=2, n_embd=16, n_head=2, block_size=16, steps=4, seed=3)
    seen = Seen()
    capsys.readouterr()
    lab.train(lab.make_model(), dispersion_coeff=0.5, callbacks=[seen], disable_tqdm=True)
    printed = capsys.readouterr().out.splitlines()  # with disable_tqdm the Trainer prints each log's dict
    assert not [line for line in printed if "'loss'" in line], printed  # no total loss left for a loss table
    lines = [line for line in printed if "final loss" in line]
    assert len(lines) == 1 and lines[0].startswith("CE + dispersion (0.5), seed 3: 4 steps; final loss"), printed
    assert len(seen.losses) == 4 and f"final loss {seen.losses[-1]:.3f} = CE " in lines[0]
    lab.train(lab.make_model(), disable_tqdm=True)  # CE only: the dispersion is logged to watch, not trained on
    line = next(line for line in capsys.readouterr().out.splitlines() if "final loss" in line)
    total, ce = (float(re.search(rf"{key} (-?[0-9.]+)", line)[1]) for key in ("final loss", "= CE"))
    assert line.startswith("CE only, seed 3: 4 steps") and total == ce and "not in the loss" in line, line
    lab.train(lab.make_model(), neftune_noise_alpha=5.0, disable_tqdm=True)  # a baseline is not "CE only"
    line = next(line for line in capsys.readouterr().out.splitlines() if "final loss" in line)
    assert line.startswith("CE + NEFTune (alpha 5), seed 3: 4 steps"), line
