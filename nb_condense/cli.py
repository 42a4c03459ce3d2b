"""Command line: ``nb-condense measure MODEL ...`` and ``nb-condense demo``.

Examples
--------
nb-condense demo                                   # embedded MiniLM on the builtin corpus, offline
nb-condense measure gpt2 --dataset wikipedia --n-texts 100 --out gpt2.npz --plot gpt2.png
nb-condense measure random:gpt2 --tokenizer gpt2   # an untrained GPT-2 (condensation at init)
nb-condense page gpt2.npz gpt2-large.npz --out explorer.html   # the explorer as one offline page
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .measurement.settings import MeasureSettings, TextSource

__all__ = ["main"]


def _layers(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"takes comma-separated integers, e.g. 0,6,-1 (got {text!r})") from exc


def _batch_size(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"takes a positive integer or 'auto' (got {text!r})") from exc


def read_texts_file(path: str | Path) -> tuple[str, ...]:
    """The non-empty lines of a UTF-8 text file, stripped; a ValueError naming the file when it cannot be used."""
    where = f"--texts-file {str(path)!r}"
    file = Path(path)
    if file.is_dir():
        raise ValueError(f"{where} is a folder: give a UTF-8 file with one text per line.")
    if not file.exists():
        raise ValueError(f"{where} does not exist: give a UTF-8 file with one text per line.")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ValueError(f"{where} cannot be read ({exc.strerror or exc}): check its permissions.") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
                         "save it as UTF-8.") from None
    texts = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not texts:
        raise ValueError(f"{where} has no non-empty lines: give one text per line.")
    return texts


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line (exit 2), like the command's own errors."""

    def error(self, message: str) -> NoReturn:
        """Print ``error: message`` and where to read the usage, then exit with status 2."""
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


# How a field's annotation becomes a command-line value; the flag is the field's name with dashes.
PARSERS: dict[str, Any] = {"int": int, "str": str, "str | None": str, "int | str | None": _batch_size,
                           "tuple[int, ...] | None": _layers, "tuple[str, ...] | None": str}
"""``--texts-file`` is kept as a path here and read by :func:`read_texts_file` before anything is written."""
FLAGS = {"texts": ["--texts-file"]}
"""Fields whose flags are not simply ``--field-name``."""


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type, group: Any = None) -> None:
    """One flag per field of ``cls``, typed from its annotation, helped by its ``metadata["help"]``.

    Defaults are left to the dataclass: a flag not given is absent from the parsed namespace.
    """
    for item in dataclasses.fields(cls):
        flags = FLAGS.get(item.name, ["--" + item.name.replace("_", "-")])
        target = group if group is not None and item.name in ("texts", "dataset") else parser
        help_text = f"{item.metadata.get('help', '')} (default: {item.default})"
        if item.type == "bool":
            target.add_argument(*flags, dest=item.name, action="store_true", default=argparse.SUPPRESS,
                                help=item.metadata.get("help", ""))
        else:
            target.add_argument(*flags, dest=item.name, type=PARSERS[str(item.type)], default=argparse.SUPPRESS,
                                help=help_text)


def dataclass_values(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` given on the command line."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}


def format_summary(result) -> str:  # type: ignore[no-untyped-def]
    """A short per-layer table and the trend line, as printed by the CLI."""
    table = result.summary()
    trend = result.trend()
    lines = [
        f"model: {result.metadata.get('model_name')}  ({result.metadata.get('n_parameters', 0):,} parameters, "
        f"{result.metadata.get('n_layers')} layers)",
        f"texts: {result.n_texts} from {result.metadata.get('corpus')}, up to {result.metadata.get('max_length')} "
        f"tokens; diagonal {'included' if result.metadata.get('include_diagonal') else 'excluded'}",
        "",
        table.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
        "",
        f"Spearman rho = {trend.spearman_rho:.4f}   Kendall tau = {trend.kendall_tau:.4f}   "
        f"last-layer mean = {trend.layer_means[-1]:.4f}   last-half mean = {trend.last_half_mean:.4f}",
    ]
    if result.n_texts >= 2 and result.resamplable:
        sure = result.trend(ci=0.95).intervals
        lines.append(f"95 % bootstrap intervals over the {result.n_texts} texts: rho {_pair(sure['spearman_rho'])}   "
                     f"last-layer mean {_pair(sure['last_1_mean'])}   last-half mean {_pair(sure['last_half_mean'])}")
    return "\n".join(lines)


def _pair(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:.4f} to {bounds[1]:.4f}"


def writable_path(path: str | Path, what: str) -> Path:
    """``path`` if a file can be written there (its folder is created), else an error naming ``what``.

    Checked before measuring, so a mistyped output path fails in a second, not after the whole run.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a folder: give a file name, e.g. {str(path / 'result.npz')!r}.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{what} {str(path)!r}: cannot create its folder ({exc.strerror or exc}).") from None
    if not os.access(path.parent, os.W_OK):
        raise ValueError(f"{what} {str(path)!r}: its folder is not writable.")
    return path


def _measure(args: argparse.Namespace) -> int:
    source_values = dataclass_values(args, TextSource)
    if "texts" in source_values:  # first: a file that cannot be used fails before anything is written
        source_values["texts"] = read_texts_file(source_values["texts"])
    from .charts import heatmap, save_chart
    from .charts.describe import describe_heatmap
    from .charts.output import check_chart_path
    from .core.result import result_path
    from .measurement.engine import measure_texts
    from .measurement.models import load_model

    settings = MeasureSettings(**dataclass_values(args, MeasureSettings))
    source = TextSource(**source_values)
    out = writable_path(result_path(writable_path(args.out, "--out")), "--out") if args.out else None
    plot = writable_path(check_chart_path(args.plot), "--plot") if args.plot else None
    texts, corpus = source.resolve()  # before loading the model: a corpus that cannot be read fails fast
    model, tokenizer = load_model(
        args.model,
        tokenizer=args.tokenizer,
        lm_head=settings.include_logits_layer,
        dtype=args.dtype,
        device=args.device,
        device_map=args.device_map,
        trust_remote_code=args.trust_remote_code,
    )
    result = measure_texts(model, tokenizer, texts, settings, metadata=corpus, show_progress=not args.no_progress)
    print(format_summary(result))
    if out is not None:
        print(f"saved {result.save(out)}")
    if plot is not None:
        name = str(result.metadata.get("model_name"))
        text = describe_heatmap(result, model=name)
        print(f"saved {save_chart(heatmap(result, title=name, select=False), plot, text=text)}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .charts import heatmap, save_chart
    from .charts.describe import describe_heatmap
    from .core.files import write_text
    from .measurement.engine import measure
    from .measurement.models import load_model

    out = Path(args.out_dir)
    writable_path(out / "result.npz", "--out-dir")
    model, tokenizer = load_model("embedded")
    result = measure(model, tokenizer, dataset="builtin", n_texts=args.n_texts, max_length=args.max_length,
                     show_progress=not args.no_progress)
    print(format_summary(result))
    write_text(out / "summary.csv", result.summary().to_csv(index=False))
    result.save(out / "result.npz")
    title = "all-MiniLM-L6-v2 on the builtin corpus"
    save_chart(heatmap(result, title=title, select=False), out / "heatmap.png",
               text=describe_heatmap(result, model="all-MiniLM-L6-v2", title=title))
    print(f"\nwrote {out / 'heatmap.png'}, {out / 'summary.csv'}, {out / 'result.npz'}")
    return 0


def _page(args: argparse.Namespace) -> int:
    from .core.result import CondensationResult
    from .widgets.page import save_page

    if Path(args.out).suffix.lower() != ".html":
        raise ValueError(f"--out {args.out!r}: the page is an .html file.")
    results: dict[str, CondensationResult] = {}
    for path in args.results:  # first: a result that cannot be read fails before anything is written
        result = CondensationResult.load(path)
        name = str(result.metadata.get("model_name") or Path(path).stem)
        results[name if name not in results else Path(path).stem] = result
    out = writable_path(args.out, "--out")
    print(f"saved {save_page(results, out, title=args.title)} ({len(results)} model(s), offline, no kernel needed)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="nb-condense", description="Measure embedding condensation.")
    commands = parser.add_subparsers(dest="command", required=True)

    m = commands.add_parser("measure", help="measure one model and print a per-layer summary")
    m.add_argument("model", help="hub id, local folder, 'embedded', or random:<model-type|json|config.json|hub id>")
    m.add_argument("--tokenizer", help="tokenizer hub id or folder (default: the model's; needed for random:<type>)")
    add_dataclass_arguments(m, TextSource, group=m.add_mutually_exclusive_group())
    add_dataclass_arguments(m, MeasureSettings)
    m.add_argument("--dtype", help="weights' dtype: float32 (default, as the paper measured), bfloat16, float16, "
                                   "or auto (the checkpoint's own)")
    m.add_argument("--device", help="e.g. cpu, cuda")
    m.add_argument("--device-map", help="'auto' shards pretrained weights over the GPUs (accelerate)")
    m.add_argument("--trust-remote-code", action="store_true")
    m.add_argument("--out", help="save the result (.npz)")
    m.add_argument("--plot", help="save the heatmap (.png, .svg, .pdf, .html)")
    m.add_argument("--no-progress", action="store_true")
    m.set_defaults(run=_measure)

    p = commands.add_parser("page", help="write the explorer of saved results as one offline HTML page")
    p.add_argument("results", nargs="+", help="results saved with CondensationResult.save (.npz)")
    p.add_argument("--out", required=True, help="the page to write (.html)")
    p.add_argument("--title", default="Embedding condensation explorer", help="the page's title")
    p.set_defaults(run=_page)

    d = commands.add_parser("demo", help="offline demo: embedded MiniLM on the builtin corpus")
    d.add_argument("--out-dir", default="nb_condense_demo")
    d.add_argument("--n-texts", type=int, default=20)
    d.add_argument("--max-length", type=int, default=256)
    d.add_argument("--no-progress", action="store_true")
    d.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``nb-condense``; returns the exit status."""
    from .measurement.corpus import CorpusUnavailableError

    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, ImportError, OSError, CorpusUnavailableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
