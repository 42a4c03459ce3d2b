"""The API reference: one autodoc entry per public name, and ``**options`` spelled out in every signature.

``.. nbc-api:: nb_condense.charts`` documents every name of the module's ``__all__``, in that order: classes with
their public members, functions, and constants (a dict or list constant without its value, which can run to pages).
The list is the module's own ``__all__``, so a name added there is in the reference at the next build.

The entry points take their settings as ``**options: Unpack[SomeOptions]`` (TypedDicts in
``nb_condense/measurement/_options.py``). Most of them already carry an expanded ``__signature__``
(:func:`nb_condense.measurement.settings.with_options_signature`); :func:`expand_options` is the safety net for any
that does not: an ``autodoc-process-signature`` hook replaces ``**options: Unpack[X]`` by one keyword-only parameter
per field of ``X``, with its type and the default of the ``MeasureSettings`` / ``TextSource`` field of that name.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import sys
import typing
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import PycodeError
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective
from sphinx.util.inspect import DefaultValue, stringify_signature
from sphinx.util.inspect import signature as sphinx_signature

UNPACK = re.compile(r"Unpack\[\s*(?:[\w.~]+\.)?(?P<name>\w+)\s*\]")
SCALARS = (bool, int, float, str, type(None))


def _unpacked_typeddict(parameter: inspect.Parameter, globalns: dict[str, Any]) -> Any:
    """The TypedDict of a ``**name: Unpack[TypedDict]`` parameter, or None."""
    if parameter.kind is not inspect.Parameter.VAR_KEYWORD or parameter.annotation is inspect.Parameter.empty:
        return None
    annotation = parameter.annotation
    if isinstance(annotation, str):
        match = UNPACK.search(annotation)
        return globalns.get(match["name"]) if match else None
    args = typing.get_args(annotation)
    return args[0] if args and typing.get_origin(annotation) is not None and "Unpack" in repr(annotation) else None


def _field_defaults() -> dict[str, Any]:
    """The default of every MeasureSettings and TextSource field, by name."""
    from nb_condense.measurement.settings import MeasureSettings, TextSource

    return {item.name: item.default for cls in (TextSource, MeasureSettings) for item in dataclasses.fields(cls)}


def _signature(obj: Any) -> inspect.Signature | None:
    """``obj``'s signature as autodoc reads it (string annotations evaluated), or None."""
    try:
        return sphinx_signature(obj)
    except (TypeError, ValueError):
        return None


def _factory_defaults(obj: Any) -> dict[str, DefaultValue]:
    """A dataclass's ``field(default_factory=...)`` defaults, written as the value they make (``{}``, ``[]``).

    ``inspect`` shows them as ``<factory>``, which is not Python: Sphinx then cannot parse the signature and splits
    ``dict[str, Any]`` at its comma.
    """
    if not (inspect.isclass(obj) and dataclasses.is_dataclass(obj)):
        return {}
    out = {}
    for item in dataclasses.fields(obj):
        factory = item.default_factory
        if factory is dataclasses.MISSING:
            continue
        if factory in (dict, list, set, tuple):
            out[item.name] = DefaultValue(repr(factory()) if factory is not set else "set()")
        else:
            name = getattr(factory, "__qualname__", "")
            out[item.name] = DefaultValue(f"{name}()" if name.isidentifier() else "...")
    return out


def expanded_signature(obj: Any) -> inspect.Signature | None:
    """``obj``'s signature as the reference shows it, or None when it needs no change.

    ``**options: Unpack[X]`` is replaced by X's fields (keyword-only), private keyword parameters (``_result=None``)
    are left out and ``field(default_factory=...)`` defaults are written as values.
    """
    target = obj.__init__ if inspect.isclass(obj) else obj
    signature = _signature(target)
    if signature is None:
        return None
    globalns = getattr(inspect.unwrap(target), "__globals__", {})
    params = list(signature.parameters.values())
    typed = _unpacked_typeddict(params[-1], globalns) if params else None
    keep = [p for p in params if not (p.name.startswith("_") and p.default is not inspect.Parameter.empty)]
    factories = _factory_defaults(obj)
    keep = [p.replace(default=factories[p.name]) if p.name in factories else p for p in keep]
    if typed is None and len(keep) == len(params) and not factories:
        return None
    if typed is not None:
        keep = [p for p in keep if p.kind is not inspect.Parameter.VAR_KEYWORD]
        defaults = _field_defaults()
        taken = {p.name for p in keep}
        for name, hint in typing.get_type_hints(typed).items():
            if name not in taken:
                keep.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=hint,
                                              default=defaults.get(name, inspect.Parameter.empty)))
    return signature.replace(parameters=keep)


def expand_options(app: Sphinx, what: str, name: str, obj: Any, options: Any, signature: str | None,
                   return_annotation: str | None) -> tuple[str, str | None] | None:
    """``autodoc-process-signature``: the signature with ``**options`` expanded and private parameters left out."""
    if signature is None or what not in {"function", "method", "class"}:
        return None
    new = expanded_signature(obj)
    if new is None and what == "class" and inspect.isfunction(getattr(obj, "__init__", None)):
        # what a user calls: __init__, not a base's __new__(*args, **kwargs) (traitlets' HasTraits, anywidget)
        new = _signature(obj.__init__)
    if new is None:
        return None
    params = list(new.parameters.values())
    if what in {"method", "class"} and params and params[0].name in {"self", "cls"}:
        new = new.replace(parameters=params[1:])
    text = stringify_signature(new, show_return_annotation=False,
                               unqualified_typehints=app.config.autodoc_typehints_format == "short")
    return text, return_annotation


def _attribute_doc(package: str, name: str, obj: Any) -> list[str]:
    """The docstring written under ``name = ...`` in the module of ``package`` that defines it (``[]`` if none).

    A constant re-exported by a package's ``__init__`` carries no docstring of its own (``obj.__doc__`` is its type's),
    so the attribute docstrings of the package's modules are searched for the one bound to this very object.
    """
    for module_name, module in sorted(sys.modules.items()):
        if not (module_name == package or module_name.startswith(package + ".")) or module is None:
            continue
        if getattr(module, name, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
        except PycodeError:
            continue
        if ("", name) in docs:
            return list(docs["", name])
    return []


def _data_entry(module_name: str, name: str, obj: Any) -> list[str]:
    """A ``py:data`` entry: the value for a scalar, the type otherwise, and the attribute docstring."""
    lines = [f".. py:data:: {name}", f"   :module: {module_name}"]
    if isinstance(obj, SCALARS):
        lines += [f"   :value: {obj!r}"]
    else:
        lines += [f"   :type: {type(obj).__name__}"]
    lines += [""] + [f"   {line}" for line in _attribute_doc(module_name, name, obj)] + [""]
    return lines


class ApiDirective(SphinxDirective):
    """``.. nbc-api:: module``: an autodoc entry for each name of ``module.__all__``."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        """Write the autodoc directives for the module's public names and parse them in place."""
        module_name = self.arguments[0]
        module = importlib.import_module(module_name)
        lines: list[str] = []
        for name in module.__all__:
            obj = getattr(module, name)
            full = f"{module_name}.{name}"
            if inspect.ismodule(obj) and obj.__name__ in PUBLIC_MODULES:
                lines += [f"``{name}``: the :mod:`{obj.__name__}` module (its own page).", ""]
            elif inspect.ismodule(obj):
                lines += [f".. automodule:: {obj.__name__}", ""]
            elif inspect.isclass(obj):
                lines += [f".. autoclass:: {full}", "   :members:", "   :show-inheritance:", ""]
            elif callable(obj):
                lines += [f".. autofunction:: {full}", ""]
            else:
                lines += _data_entry(module_name, name, obj)
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=f"<nbc-api {module_name}>"), self.content_offset,
                                container)
        return container.children


PUBLIC_MODULES = ("nb_condense", "nb_condense.charts", "nb_condense.training", "nb_condense.tutorial")
"""The modules whose ``__all__`` is the public API (each has its page in api/)."""


def _import_path(path: str) -> tuple[Any, list[str]] | None:
    """The object named by the longest importable prefix of a dotted path, and the parts left after it."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        rest = parts[cut:]
        for index, part in enumerate(rest):
            if not hasattr(obj, part):
                return obj, rest[index:] if index else rest
            obj = getattr(obj, part)
            if _public_name(obj) is not None:
                return obj, rest[index + 1:]
        return obj, []
    return None


def _public_name(obj: Any) -> str | None:
    """Where ``obj`` is documented in the reference (``nb_condense.charts.heatmap``), or None."""
    if inspect.ismodule(obj):
        return obj.__name__ if obj.__name__ in PUBLIC_MODULES else None
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if getattr(module, name) is obj and (inspect.isclass(obj) or inspect.isroutine(obj)):
                return f"{module_name}.{name}"
    return None


def public_alias(target: str) -> str | None:
    """The public name of an object referred to by its defining module (``nb_condense.explore.session.X.y``)."""
    if not target.startswith("nb_condense."):
        return None
    found = _import_path(target)
    if found is None:
        return None
    obj, rest = found
    public = _public_name(obj)
    return ".".join([public, *rest]) if public is not None and public != target else None


DOCSTRING_OF = re.compile(r"docstring of (?P<name>[\w.]+)")


def _candidates(node: Any) -> list[str]:
    """The full names a reference may mean: as written, then inside its class and module.

    ``CondensationResult`` written in ``nb_condense.compat``'s docstrings means
    ``nb_condense.compat.CondensationResult``.
    """
    target = node["reftarget"].lstrip(".~")
    module, cls = node.get("py:module"), node.get("py:class")
    names = [target]
    if module and cls:
        names.append(f"{module}.{cls}.{target}")
    if module:
        names.append(f"{module}.{target}")
    # a docstring's names are relative to the module that defines it, which autodoc names in the node's source
    documented = DOCSTRING_OF.search(str(node.source or ""))
    if documented:
        parts = documented["name"].split(".")
        names += [".".join([*parts[:cut], target]) for cut in range(len(parts), 0, -1)]
    return [name for name in names if name.startswith("nb_condense.") or name == "nb_condense"]


def resolve_public_alias(app: Sphinx, env: Any, node: Any, contnode: nodes.Element) -> nodes.Element | None:
    """``missing-reference``: resolve a reference to our code that Sphinx did not find by its own rules.

    A name written by its defining module (``nb_condense.explore.session.CondensationSession``) or relative to the
    docstring's module links to the entry of its public name. A name that exists but has no entry (a private helper,
    an internal module) is shown as code, unlinked. A name that does not exist is left to Sphinx, which warns: under
    ``-W -n`` a misspelt or renamed reference fails the build.
    """
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    for name in _candidates(node):
        found = _import_path(name)
        if found is None:
            continue
        obj, rest = found
        public = _public_name(obj)
        if public is not None:
            alias = ".".join([public, *rest])
            result: nodes.Element | None = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                                               alias, node, contnode)
            if result is not None:
                return result
        if not rest:
            return contnode  # exists, documented nowhere: plain code text
    return None


NAPOLEON_PRIORITY = 500  # sphinx.ext.napoleon's handler of autodoc-process-docstring


def shield_property_colons(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Keep napoleon from reading a property's first sentence as ``type: description``.

    Napoleon takes a colon in an attribute's first line for Google's inline type (``int: the count``): our numpy-style
    property docstrings (``"Number of blocks (GPT-2 small: 12)."``) then render a bogus type. A leading ``": "``
    tells it the type is empty; the real type comes from the annotation.
    """
    if what not in {"attribute", "property", "data"} or not lines:
        return
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and re.search(r"(?<!:):(?!:)", re.sub(r"``.*?``|`.*?`", "", lines[first])):
        lines[first] = ": " + lines[first]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive, the signature and docstring hooks and the public-alias resolver."""
    app.add_directive("nbc-api", ApiDirective)
    app.connect("autodoc-process-signature", expand_options)
    app.connect("autodoc-process-docstring", shield_property_colons, priority=NAPOLEON_PRIORITY - 1)
    app.connect("missing-reference", resolve_public_alias)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
