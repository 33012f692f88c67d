"""Package names that load on first use, so an app imports only what it draws (scikit-learn, Earth Engine and
their dependencies take seconds and hundreds of MB, and a map's first render needs neither).

A package lists its public names as imports under ``if TYPE_CHECKING:`` (what type checkers, editors and the
architecture test read) and calls :func:`lazy_exports`, which reads that same block, so the list exists once.
"""

from __future__ import annotations

import ast
import importlib
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any


def lazy_exports(package: str, init_file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: each name of its ``TYPE_CHECKING`` imports is imported
    from its module when first asked for, then kept in the package like an ordinary import."""
    where = _lazy_imports(Path(init_file).read_text(), package)
    module = sys.modules[package]
    namespace = module.__dict__
    namespace["_lazy_names"] = where
    module.__class__ = _LazyPackage

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        source, original = where[name]
        value = getattr(importlib.import_module(source), original)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__


class _LazyPackage(types.ModuleType):
    """A package whose public names are lazy: importing a submodule of the same name as one of them (``classify``
    in ``analysis``) must not replace the public name with the module, as it does by default on a first import."""

    def __setattr__(self, name: str, value: Any) -> None:
        lazy = self.__dict__.get("_lazy_names", {})
        if (
            name in lazy
            and isinstance(value, types.ModuleType)
            and value.__name__ == f"{self.__name__}.{name}"
            and lazy[name] != (self.__name__, name)
        ):
            return  # the submodule stays reachable in sys.modules; the name keeps meaning what __init__ says
        super().__setattr__(name, value)


def _lazy_imports(source: str, package: str) -> dict[str, tuple[str, str]]:
    """{name: (absolute module, name there)} of the ``from ... import`` statements under ``if TYPE_CHECKING:``."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.ImportFrom) or (statement.module is None and not statement.level):
                raise ValueError(f"only 'from ... import' belongs in {package}'s TYPE_CHECKING block")
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - statement.level + 1]) if statement.level else ""
            module = ".".join(filter(None, [base, statement.module]))
            for alias in statement.names:
                found[alias.asname or alias.name] = (module, alias.name)
    return found
