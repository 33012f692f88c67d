"""The environment the binder/ recipe builds, assembled offline from this one: the recipe's offline twin.

Binder runs ``pip install -r binder/requirements.txt`` in a fresh environment, then ``binder/postBuild``. Offline,
the same requirements are resolved against the distributions installed here, as pip resolves them when it finds
them installed: every requirement, and every requirement of theirs (extras and markers included), must be
installed at a version the specifier allows, or the twin is not built and says which one is missing. Only the
distributions of that closure are then linked, file by file from their RECORDs, into a fresh virtual environment
(site-packages, and the ``share/`` and ``etc/`` files Jupyter and Voila read from the environment's prefix);
``-e .`` links this checkout, as an editable install does. Nothing else of this environment is visible there, so a
requirement dropped from the recipe fails the import, the app or the tutorial that needs it, as on Binder.
"""

from __future__ import annotations

import csv
import os
import re
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

_EDITABLE = re.compile(r"^(?:-e|--editable)\s+(?P<path>[^\[\s]+)(?:\[(?P<extras>[^\]]*)\])?$")


class RecipeError(AssertionError):
    """The recipe cannot be followed with what is installed: a missing or mismatched requirement, a bad line."""


def read_requirements(path: Path, root: Path) -> tuple[list[Requirement], list[tuple[Path, set[str]]]]:
    """The requirement lines of ``path`` and its editable local projects ((folder, extras)); any other pip option
    is an error, since it could not be checked offline."""
    requirements, editables = [], []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if match := _EDITABLE.match(line):
            extras = {e.strip() for e in (match["extras"] or "").split(",") if e.strip()}
            editables.append(((root / match["path"]).resolve(), extras))
        elif line.startswith("-"):
            raise RecipeError(f"{path.name}:{number}: {line!r} is an option the offline twin cannot follow")
        else:
            requirements.append(Requirement(line))
    return requirements, editables


def local_project(folder: Path, extras: set[str]) -> tuple[str, list[Requirement]]:
    """Name and requirements (with ``extras``) of the project in ``folder``, from its pyproject.toml."""
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    optional = project.get("optional-dependencies", {})
    unknown = extras - set(optional)
    if unknown:
        raise RecipeError(f"{project['name']} has no extra {sorted(unknown)} (it has {sorted(optional)})")
    lines = [*project.get("dependencies", []), *(r for e in sorted(extras) for r in optional[e])]
    return project["name"], [Requirement(r) for r in lines]


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in {"", *extras})


def resolve(requirements: list[Requirement], needed_by: str) -> dict[str, metadata.Distribution]:
    """The installed distributions ``requirements`` need, transitively; a missing or mismatched one is an error."""
    found: dict[str, metadata.Distribution] = {}
    done: dict[str, set[str]] = {}
    todo = [(r, needed_by) for r in requirements if _applies(r, set())]
    problems = []
    while todo:
        requirement, parent = todo.pop()
        name = canonicalize_name(requirement.name)
        try:
            dist = found.get(name) or metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement} (needed by {parent}) is not installed")
            continue
        if not requirement.specifier.contains(dist.version, prereleases=True):
            problems.append(f"{requirement} (needed by {parent}) but {dist.version} is installed")
            continue
        found[name] = dist
        new_extras = {""} | set(requirement.extras)
        if not new_extras - done.get(name, set()):
            continue
        done.setdefault(name, set()).update(new_extras)
        for sub in map(Requirement, dist.requires or []):
            if _applies(sub, set(requirement.extras)):
                todo.append((sub, name))
    if problems:
        raise RecipeError("the recipe does not resolve against this environment:\n" + "\n".join(sorted(problems)))
    return found


def _record(dist: metadata.Distribution) -> tuple[str, list[str]]:
    """The folder a distribution's RECORD paths are relative to (its site-packages), and those paths."""
    record = dist.read_text("RECORD")
    if record is None:
        raise RecipeError(f"{dist.metadata['Name']} has no RECORD: its files cannot be linked")
    return os.path.abspath(dist.locate_file("")), [row[0] for row in csv.reader(record.splitlines()) if row]


def link_environment(venv: Path, dists: dict[str, metadata.Distribution], editable: list[Path]) -> None:
    """Link the files of ``dists`` into ``venv`` (made with ``python -m venv --without-pip``) where an install into
    it would put them, and ``editable`` folders on its path as an editable install does. Scripts in ``bin/`` are
    left out: theirs start this environment's interpreter, so the twin is used with ``python -m``."""
    here_site = os.path.abspath(sysconfig.get_paths()["purelib"])
    here_prefix = os.path.abspath(sys.prefix)
    twin_site = os.path.join(venv, os.path.relpath(here_site, here_prefix))
    # a top-level entry of site-packages that only linked distributions own is linked whole; one shared with a
    # distribution left out (a namespace package such as google/) is linked file by file
    owners: dict[str, set[str]] = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        for top in {f.split("/", 1)[0] for f in _record(dist)[1] if not f.startswith("../")}:
            owners.setdefault(top, set()).add(name)
    linked = set(dists)
    links: dict[str, str] = {}  # link -> what it points to
    for name, dist in dists.items():
        base, paths = _record(dist)
        if base != here_site:
            raise RecipeError(f"{name} is installed in {base}, not in this environment's {here_site}")
        for rel in paths:
            if not rel.startswith("../"):
                top = rel.split("/", 1)[0]
                entry = top if owners.get(top, set()) <= linked else rel
                links[os.path.join(twin_site, entry)] = os.path.join(here_site, entry)
                continue
            absolute = os.path.normpath(os.path.join(base, rel))  # site-packages/../../../share/... made plain
            if not absolute.startswith(here_prefix + os.sep):
                raise RecipeError(f"{name} installed {absolute} outside the environment")
            rel = os.path.relpath(absolute, here_prefix)
            if not rel.startswith("bin" + os.sep):
                links[os.path.join(venv, rel)] = absolute
    for target, source in links.items():
        if os.path.lexists(source):  # a RECORD entry such as a .pyc may never have been written
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(source, target)
    Path(twin_site, "_binder_twin_editable.pth").write_text("".join(f"{p}\n" for p in editable))
