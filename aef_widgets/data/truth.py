"""What the synthetic sample really holds, read back from its folder: land-cover classes per year, where they
changed, and the planted events."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio

from ..core.errors import YearError
from ..core.grid import Grid

#: Bump whenever the generator or its class statistics change, so caches of older samples are not reused.
SAMPLE_VERSION = 3
LABEL_NODATA = 255


@dataclass(frozen=True)
class PlantedEvent:
    """One planted event of the sample.

    ``year`` is the first year that shows the event's main change (the year of its largest year-to-year change),
    None for a gradual change; ``steps`` maps every year in which the event changes the land cover to what
    changed into that year.
    """

    id: int
    name: str
    kind: str  # "abrupt", "recovery" (then regrows), "temporary" (then returns) or "gradual"
    year: int | None
    steps: dict[int, str]


@dataclass(frozen=True)
class SampleTruth:
    """What the sample really holds: land-cover classes per year, where they changed, and the planted events."""

    folder: Path
    years: tuple[int, ...]
    class_names: dict[int, str]
    class_colours: dict[int, str]
    grid: Grid
    events: tuple[PlantedEvent, ...] = ()

    def event(self, name: str) -> PlantedEvent:
        """The planted event called ``name``."""
        for e in self.events:
            if e.name == name:
                return e
        raise KeyError(f"no planted event {name!r}; events: {', '.join(e.name for e in self.events)}")

    def event_mask(self, name: str) -> np.ndarray:
        """Boolean (rows, cols): the pixels of the event ``name`` (with or without data in a given year)."""
        number = self.event(name).id
        with rasterio.open(self.folder / "events.tif") as ds:
            return ds.read(1) == number

    def labels(self, year: int) -> np.ndarray:
        """uint8 (rows, cols) class ids of ``year``; 255 where the embeddings have no data."""
        if year not in self.years:
            raise YearError(f"the sample has no {year}; years available: {', '.join(map(str, self.years))}")
        with rasterio.open(self.folder / f"labels_{year}.tif") as ds:
            return ds.read(1)

    def change(self, year_a: int, year_b: int) -> np.ndarray:
        """Boolean (rows, cols): True where the class differs between the two years (both with data)."""
        a, b = self.labels(year_a), self.labels(year_b)
        return (a != b) & (a != LABEL_NODATA) & (b != LABEL_NODATA)
