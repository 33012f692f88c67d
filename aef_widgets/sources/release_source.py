"""A ``ReleaseSource``: the public release's grids and reads, over the tiles its index finds.

A read's grid is in the UTM zone of its centre, on the 10 m lattice of that zone's tiles; tiles of the zone are
read directly (from overviews when coarser), tiles of neighbouring zones are warped onto it, exactly as a
``GeoTIFFSource`` mosaic does. Where no tile lies (sea, outside coverage) pixels are nodata. A read touching more
than ``max_files`` files says "zoom in" instead of opening them all. Fetching and wording failures is
``release_tiles``'s; opening a mirror and its index is ``release.open_release``'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window

from ..core.aoi import AOI
from ..core.bands import N_BANDS
from ..core.errors import TooManyFilesError
from ..core.field import BandField, EmbeddingField
from ..core.grid import LONLAT, Footprint, Grid, transform_bounds
from .base import ATTRIBUTION, EmbeddingSource, chunk_windows
from .file_window import tile_lattice
from .geotiff import chunk_side
from .release_cache import FetchCache
from .release_index import ReleaseIndex, Tile
from .release_tiles import ReleaseTiles, tile_crs

#: Native pixel size of the release, metres.
RESOLUTION = 10.0
#: Files one read may open; a continent-wide view would otherwise open hundreds.
MAX_FILES = 16
#: Tile side of the release's files (1024 px, band-separate); chunks are planned on the block size of the files
#: themselves once a header is read, on this before.
BLOCK = 1024


class ReleaseSource(EmbeddingSource):
    """AEF embeddings read from the public COG release over HTTPS, found through its index."""

    remote_overviews = True  # every file of the release has overviews down to 1 px

    def __init__(
        self,
        index: ReleaseIndex,
        *,
        cache: FetchCache | None = None,
        max_files: int = MAX_FILES,
        name: str | None = None,
    ) -> None:
        self.index = index
        self.cache = cache
        self.max_files = int(max_files)
        self.name = name or f"AEF public release ({index.annual_root})"
        self.attribution = ATTRIBUTION
        self.tiles = ReleaseTiles(cache)

    def __repr__(self) -> str:
        return f"ReleaseSource({self.index.annual_root!r}, years={list(self.years)}, files={len(self.index)})"

    @property
    def years(self) -> tuple[int, ...]:
        return self.index.years

    @property
    def footprint(self) -> Footprint:
        """The whole index's coverage, in lon/lat."""
        return Footprint(self.index.coverage, LONLAT)

    @property
    def resolution(self) -> float:
        return RESOLUTION

    # grids ------------------------------------------------------------------------------------------------
    def grid(self, aoi: AOI | None = None, resolution: float | None = None) -> Grid:
        """Grid over the AOI in the UTM zone of its centre, on that zone's 10 m lattice (whole multiples of it)."""
        bounds = self.index.coverage if aoi is None else tuple(map(float, aoi.bounds))
        self._check_count(bounds)
        crs, origin = self._zone_of(bounds)
        factor = 1 if resolution is None else max(1, round(resolution / RESOLUTION))
        res = RESOLUTION * factor
        if aoi is None:
            left, bottom, right, top = transform_bounds(bounds, LONLAT, crs)
        else:
            left, bottom, right, top = aoi.bounds_in(crs)
        x0, y0 = origin
        col0, col1 = math.floor((left - x0) / res + 1e-6), math.ceil((right - x0) / res - 1e-6)
        row0, row1 = math.floor((y0 - top) / res + 1e-6), math.ceil((y0 - bottom) / res - 1e-6)
        transform = Affine(res, 0, x0 + col0 * res, 0, -res, y0 - row0 * res)
        return Grid(transform, max(1, col1 - col0), max(1, row1 - row0), crs)

    def _zone_of(self, bounds: tuple[float, float, float, float]) -> tuple[CRS, tuple[float, float]]:
        """CRS and lattice origin for a read: those of a tile under the centre, else the centre's UTM zone."""
        lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        for year in reversed(self.years):
            tiles = self.index.lookup((lon, lat, lon, lat), year)
            if tiles:
                t = tiles[0]
                left, _, _, top = self.tiles.utm_bounds(t)
                return tile_crs(t.crs), (left, top)
        zone = min(60, max(1, int((lon + 180) // 6) + 1))
        return tile_crs(f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"), (0.0, 0.0)

    def _check_count(self, bounds: tuple[float, float, float, float]) -> None:
        n = self.index.count(bounds)
        if n > self.max_files:
            raise TooManyFilesError(
                f"this area touches {n} files of the release (the limit is {self.max_files}): zoom in, or choose a "
                "smaller area"
            )

    # reads ------------------------------------------------------------------------------------------------
    def read_window(self, grid: Grid, year: int) -> EmbeddingField:
        self.check_year(year)
        tiles = self._tiles_under(grid, year)
        if not tiles:  # sea or outside coverage: nodata, not an error
            values = np.full((*grid.shape, N_BANDS), np.nan, dtype=np.float32)
            return EmbeddingField(values=values, mask=np.zeros(grid.shape, dtype=bool), grid=grid, year=year)
        return self.tiles.run(tiles, lambda mosaic: mosaic.read_window(grid, year), self.name)

    def read_bands(self, grid: Grid, year: int, bands: Sequence[int]) -> BandField:
        """Only these bands' tiles are fetched: 3 of 64 for an RGB composite of the band-separate release."""
        self.check_year(year)
        bands = tuple(int(b) for b in bands)
        tiles = self._tiles_under(grid, year)
        if not tiles:
            values = np.full((*grid.shape, len(bands)), np.nan, dtype=np.float32)
            return BandField(values=values, mask=np.zeros(grid.shape, dtype=bool), grid=grid, bands=bands, year=year)
        return self.tiles.run(tiles, lambda mosaic: mosaic.read_bands(grid, year, bands), self.name)

    def sample(self, points: Sequence[tuple[float, float]], year: int) -> np.ndarray:
        self.check_year(year)
        lonlat = np.asarray(points, dtype=float).reshape(-1, 2)
        out = np.full((len(lonlat), N_BANDS), np.nan, dtype=np.float32)
        for i, (lon, lat) in enumerate(lonlat):
            tiles = self.index.lookup((lon, lat, lon, lat), year)
            if tiles:
                out[i] = self.tiles.run(tiles, lambda mosaic, p=(lon, lat): mosaic.sample([p], year), self.name)[0]
        return out

    def chunk_size(self, max_chunk_bytes: int) -> int:
        return chunk_side(self.tiles.largest_block(BLOCK), max_chunk_bytes)

    def chunk_windows(self, grid: Grid, max_chunk_bytes: int) -> list[Window]:
        """Chunks of whole tiles of the file under the grid's centre (its header is read for it), so a stream
        decodes each tile once; tiles of one zone share the 10 m lattice, so their tiles line up."""
        lattice = None
        bounds = grid.lonlat_bounds()
        lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        for year in reversed(self.years):
            tiles = [t for t in self.index.lookup((lon, lat, lon, lat), year) if tile_crs(t.crs) == grid.crs]
            if tiles:
                f = self.tiles.file(tiles[0])
                lattice = tile_lattice(f, grid)
                side = chunk_side(f.block, max_chunk_bytes)
                break
        else:
            side = self.chunk_size(max_chunk_bytes)
        return list(chunk_windows(grid, side, lattice or (0, 0)))

    def _tiles_under(self, grid: Grid, year: int) -> list[Tile]:
        """Tiles of ``year`` overlapping the grid, those in the grid's CRS first (read directly, not warped)."""
        bounds = grid.lonlat_bounds()
        self._check_count(bounds)
        tiles = [
            t for t in self.index.lookup(bounds, year) if _overlaps(self.tiles.utm_bounds(t), tile_crs(t.crs), grid)
        ]
        return sorted(tiles, key=lambda t: tile_crs(t.crs) != grid.crs)


def _overlaps(utm_bounds: tuple[float, float, float, float], crs: CRS, grid: Grid) -> bool:
    """Whether a tile's own-CRS bounds meet the grid (the lon/lat look-up is a superset near zone edges)."""
    left, bottom, right, top = transform_bounds(utm_bounds, crs, grid.crs)
    g_left, g_bottom, g_right, g_top = grid.bounds
    return left < g_right and right > g_left and bottom < g_top and top > g_bottom
