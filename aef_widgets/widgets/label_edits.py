"""Edits of the classify panel's classes and labels as pure functions: new lists out, the state untouched.

A label's target is the index of its class in the list of ``(name, colour)`` classes, so renaming or recolouring
a class changes no label, and deleting one removes its labels and shifts the indices after it. On disk labels carry
the class *name* (and its colour), so files mean the same thing in any session: ``from_disk`` matches a file's
names to the classes. Nothing here reads the data: the pixels of a polygon and the vectors saved with the labels
are ``engines.labels``'.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..analysis.area import ClassAreas
from ..core.errors import LabelsError, NoDataError
from ..core.grid import Footprint
from ..rendering.colors import categorical_colors
from ..sources.labels import LabelPoint, outside

Classes = list[tuple[str, str]]
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def next_color(classes: Sequence[tuple[str, str]]) -> str:
    """The first categorical colour no class uses yet."""
    used = {c.lower() for _, c in classes}
    palette = categorical_colors(20)
    return next((c for c in palette if c.lower() not in used), palette[len(classes) % len(palette)])


def starting_classes() -> Classes:
    """The two classes a new set of labels starts with."""
    return add_class(add_class([], "Class 1"), "Class 2")


def check_name(classes: Sequence[tuple[str, str]], name: str, keep: int | None = None) -> str:
    """The name stripped, or a LabelsError if it is empty or another class has it."""
    name = str(name).strip()
    if not name:
        raise LabelsError("give the class a name")
    if any(n == name for i, (n, _) in enumerate(classes) if i != keep):
        raise LabelsError(f"there is already a class called {name!r}")
    return name


def check_color(color: str) -> str:
    if not _HEX.match(str(color)):
        raise LabelsError(f"a class colour is #rrggbb, not {color!r}")
    return str(color).lower()


def add_class(classes: Sequence[tuple[str, str]], name: str, color: str | None = None) -> Classes:
    return [*classes, (check_name(classes, name), check_color(color or next_color(classes)))]


def rename_class(classes: Sequence[tuple[str, str]], index: int, name: str) -> Classes:
    out = list(classes)
    out[index] = (check_name(classes, name, keep=index), out[index][1])
    return out


def recolor_class(classes: Sequence[tuple[str, str]], index: int, color: str) -> Classes:
    out = list(classes)
    out[index] = (out[index][0], check_color(color))
    return out


def delete_class(
    classes: Sequence[tuple[str, str]], labels: Sequence[LabelPoint], index: int
) -> tuple[Classes, list[LabelPoint]]:
    """Without class ``index``: its labels go, later classes' labels move down by one."""
    kept = [replace(p, target=p.target - (p.target > index)) for p in labels if p.target != index]
    return [c for i, c in enumerate(classes) if i != index], kept


def remove_labels(labels: Sequence[LabelPoint], indices: Sequence[int]) -> list[LabelPoint]:
    drop = set(int(i) for i in indices)
    return [p for i, p in enumerate(labels) if i not in drop]


def from_disk(
    loaded: Sequence[LabelPoint], classes: Sequence[tuple[str, str]], footprint: Footprint, year: int
) -> tuple[Classes, list[LabelPoint], int]:
    """(classes, labels, outside) for loaded labels: classes found by name, new ones added (with the file's colour
    when it has one); labels outside the data are left out and counted. None inside raises a NoDataError."""
    away = outside(list(loaded), footprint)
    if len(loaded) and away.all():
        west, south, east, north = footprint.lonlat_bounds()
        raise NoDataError(
            f"all {len(loaded)} labels lie outside the data (lon {west:.3f} to {east:.3f}, lat {south:.3f} to "
            f"{north:.3f}); are they for another place?"
        )
    if not len(loaded):
        raise LabelsError("the file holds no labels")
    classes, labels = list(classes), []
    for p, off in zip(loaded, away):
        if off:
            continue
        name = str(p.target).strip()
        props = dict(p.properties)
        color = props.pop("color", None)
        index = next((i for i, (n, _) in enumerate(classes) if n == name), None)
        if index is None:
            classes = add_class(classes, name, color if isinstance(color, str) and _HEX.match(color) else None)
            index = len(classes) - 1
        labels.append(replace(p, target=index, year=p.year if p.year is not None else year, properties=props))
    return classes, labels, int(away.sum())


def legend_rows(classes: Sequence[tuple[str, str]], labels: Sequence[LabelPoint], areas: ClassAreas | None) -> list:
    """(name, labels, ha, %) per class; dashes until the class map has been measured."""
    counts = np.bincount([p.target for p in labels], minlength=len(classes)) if labels else np.zeros(len(classes))
    rows = []
    for i, (name, _) in enumerate(classes):
        if areas is not None and i < len(areas.hectares):
            rows.append((name, int(counts[i]), f"{areas.hectares[i]:,.2f}", f"{areas.percent[i]:.1f}"))
        else:
            rows.append((name, int(counts[i]), "–", "–"))
    return rows
