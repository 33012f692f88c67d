"""A place typed by a user: ``lon, lat`` (a point) or ``west, south, east, north`` (a box), in degrees.

The pure part of a "go to" box: text in, a frozen value out, or an ``AOIError`` that says what is wrong. Numbers
may be separated by commas, spaces or semicolons; a point is checked for lon/lat order where the numbers can only
be read one way (a "latitude" beyond 90 degrees).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import AOIError

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Place:
    """Where to go: lon/lat bounds (a point has west == east and south == north)."""

    west: float
    south: float
    east: float
    north: float

    @property
    def is_point(self) -> bool:
        return self.west == self.east and self.south == self.north

    @property
    def center(self) -> tuple[float, float]:
        """(lon, lat) of the middle."""
        return ((self.west + self.east) / 2, (self.south + self.north) / 2)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.west, self.south, self.east, self.north)


def parse_place(text: str) -> Place:
    """``"lon, lat"`` or ``"west, south, east, north"`` (degrees) as a Place; AOIError in words otherwise."""
    stripped = text.strip()
    if not stripped:
        raise AOIError('type a place as "lon, lat" or "west, south, east, north" in degrees')
    tokens = [t for t in re.split(r"[,;\s]+", stripped) if t]
    bad = [t for t in tokens if not _NUMBER.fullmatch(t)]
    if bad:
        raise AOIError(f"{bad[0]!r} is not a number; type degrees such as -84.03, 44.0")
    numbers = [float(t) for t in tokens]
    if not all(math.isfinite(x) for x in numbers):
        raise AOIError("coordinates must be finite numbers")
    if len(numbers) == 2:
        lon, lat = numbers
        _check_lat(lat, "latitude", swapped=abs(lon) <= 90 < abs(lat))
        _check_lon(lon, "longitude")
        return Place(lon, lat, lon, lat)
    if len(numbers) == 4:
        west, south, east, north = numbers
        for value, name in ((west, "west"), (east, "east")):
            _check_lon(value, name)
        for value, name in ((south, "south"), (north, "north")):
            _check_lat(value, name)
        if not south < north:
            raise AOIError(f"south ({south:g}) must be less than north ({north:g})")
        if not west < east:
            raise AOIError(f"west ({west:g}) must be less than east ({east:g}) (no boxes across 180 degrees)")
        return Place(west, south, east, north)
    raise AOIError(
        f'{len(numbers)} numbers given; type "lon, lat" (2 numbers) or "west, south, east, north" (4 numbers)'
    )


def _check_lat(value: float, name: str, swapped: bool = False) -> None:
    if not -90 <= value <= 90:
        hint = ' (longitude comes first: "lon, lat")' if swapped else ""
        raise AOIError(f"{name} {value:g} is outside -90..90 degrees{hint}")


def _check_lon(value: float, name: str) -> None:
    if not -180 <= value <= 180:
        raise AOIError(f"{name} {value:g} is outside -180..180 degrees")
