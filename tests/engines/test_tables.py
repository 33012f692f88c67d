"""Zonal embeddings and point tables against references computed independently of the code under test: coverage
fractions from shapely (the area of each pixel's square inside the polygon), vectors read with plain rasterio from
the real raster's float32 file (the code reads the int8 file), and the mean of the unit vectors taken here.

The real raster is the Wisconsin excerpt of the release (tests/data/aef-real, provenance in its README). The
cross-zone files are the miniature release's two 2024 tiles either side of the 16N/17N boundary (tests/release_data,
pixels of the real raster), read as one GeoTIFF mosaic, which warps the eastern zone onto the western one's grid.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from aef_widgets.analysis.geotable import GeometryError
from aef_widgets.core.aoi import AOI
from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.core.quantization import dequantize
from aef_widgets.data.cog import write_embedding_cog
from aef_widgets.engines import tables
from aef_widgets.engines.tables import sample_points, zonal_embeddings
from aef_widgets.engines.workflows import CHUNK_BYTES
from aef_widgets.sources.geotiff import GeoTIFFSource
from aef_widgets.sources.open import open_source
from tests.conftest import REAL_FLOAT32, write_like
from tests.release_data import BOUNDARY_LAT, tiles

UTM16 = "EPSG:32616"


def reference(polygon: shapely.Geometry, values: np.ndarray, transform: Affine) -> tuple[float, np.ndarray, float]:
    """(pixels, unit mean vector, spread) of ``polygon`` over ``values`` (rows, cols, 64; NaN = no data), with the
    coverage of each pixel computed as the area of its square inside the polygon."""
    rows, cols = np.indices(values.shape[:2])
    x0, y0 = transform @ (cols, rows)
    x1, y1 = transform @ (cols + 1, rows + 1)
    boxes = shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1))
    fraction = shapely.area(shapely.intersection(boxes, polygon)) / abs(transform.a * transform.e)
    valid = np.isfinite(values).all(axis=2)
    weights = np.where(valid, fraction, 0.0)
    unit = np.nan_to_num(values / np.linalg.norm(values, axis=2, keepdims=True))
    total = weights.sum()
    mean = (weights[..., None] * unit).sum(axis=(0, 1)) / total
    length = np.linalg.norm(mean)
    return total, mean / length, 1 - length


def vectors(table: gpd.GeoDataFrame) -> np.ndarray:
    return table[list(BAND_NAMES)].to_numpy(dtype=np.float64)


@pytest.fixture(scope="module")
def real() -> tuple[np.ndarray, Affine]:
    with rasterio.open(REAL_FLOAT32) as ds:
        return np.moveaxis(ds.read().astype(np.float64), 0, -1), ds.transform


def real_polygons(transform: Affine) -> gpd.GeoDataFrame:
    """Shapes over the real raster (96 x 96 px from its top-left corner ``transform``), in UTM 16N."""
    x, y = transform.c, transform.f
    square = shapely.box(x + 103.3, y - 417.9, x + 371.2, y - 140.6)
    holed = square.difference(shapely.box(x + 180.5, y - 350.2, x + 290.7, y - 210.1))
    two = shapely.MultiPolygon([shapely.box(x + 500.1, y - 600.4, x + 560.7, y - 540.3),
                                shapely.Point(x + 800.3, y - 800.9).buffer(47.3)])  # fmt: skip
    tiny = shapely.box(x + 455.2, y - 455.9, x + 458.4, y - 452.1)  # 3.2 x 3.8 m, inside one pixel
    straddle = shapely.box(x + 2.5, y - 2.5, x + 7.5, y + 2.5).union(shapely.box(x - 30, y - 60.7, x + 44.4, y - 20))
    return gpd.GeoDataFrame(
        {"name": ["square", "holed", "two", "tiny", "straddle"], "crop": [1, 2, 3, 4, 5]},
        geometry=[square, holed, two, tiny, straddle], crs=UTM16,
    )  # fmt: skip


@pytest.mark.parametrize("batch_cells", [tables.BATCH_CELLS, 1])  # all in one batch; each polygon its own
def test_zonal_means_on_the_real_raster_equal_shapely_coverage_weighted_means(
    real_int8, real, batch_cells, monkeypatch
) -> None:
    monkeypatch.setattr(tables, "BATCH_CELLS", batch_cells)
    values, transform = real
    polygons = real_polygons(transform)
    reports = []
    out = zonal_embeddings(open_source(real_int8), polygons.to_crs(4326), progress=lambda f, m: reports.append(f))
    assert reports and reports[-1] == 1.0  # the input's CRS (lon/lat) is not the source's (UTM 16N)
    assert list(out.columns[:2]) == ["name", "crop"] and out.crs == "EPSG:4326" and len(out) == len(polygons)
    assert list(out["year"]) == [2024] * len(polygons)
    for i, polygon in enumerate(polygons.geometry):
        pixels, mean, spread = reference(polygon, values, transform)
        row = out.iloc[i]
        assert row["pixels"] == pytest.approx(pixels, rel=1e-6), row["name"]
        np.testing.assert_allclose(vectors(out)[i], mean, atol=1e-5, err_msg=row["name"])
        assert row["spread"] == pytest.approx(spread, abs=1e-5)
    tiny = out.set_index("name").loc["tiny"]
    assert tiny["pixels"] == pytest.approx(3.2 * 3.8 / 100, rel=1e-6) and tiny["spread"] == pytest.approx(0, abs=1e-6)
    straddle = out.set_index("name").loc["straddle"]  # partly west and north of the raster: only its inside counts
    inside = polygons.geometry[4].intersection(shapely.box(*rasterio.transform.array_bounds(96, 96, transform)[::1]))
    assert straddle["coverage"] == pytest.approx(inside.area / polygons.geometry[4].area, rel=1e-6)


def test_zonal_means_equal_exactextracts_own_weighted_means_of_the_unit_vectors(real_int8, real, tmp_path) -> None:
    """exactextract run directly (its ``mean`` of each band, coverage-weighted) on a file of the real raster's unit
    vectors, renormalised here, is the same vector as ours from the int8 file."""
    from exactextract import exact_extract

    values, transform = real
    unit = (values / np.linalg.norm(values, axis=2, keepdims=True)).astype(np.float32)
    path = write_like(tmp_path / "unit.tif", REAL_FLOAT32, np.moveaxis(unit, -1, 0))
    polygons = real_polygons(transform)
    theirs = exact_extract(str(path), polygons, ["mean", "count"], output="pandas")
    means = theirs[[f"band_{b}_mean" for b in range(1, 65)]].to_numpy()
    ours = zonal_embeddings(open_source(real_int8), polygons)
    np.testing.assert_allclose(vectors(ours), means / np.linalg.norm(means, axis=1, keepdims=True), atol=1e-5)
    np.testing.assert_allclose(ours["pixels"], theirs["band_1_count"], rtol=1e-6)
    np.testing.assert_allclose(ours["spread"], 1 - np.linalg.norm(means, axis=1), atol=1e-5)


def test_nodata_pixels_never_count_and_a_polygon_on_no_data_is_nan_with_zero_pixels(int8_with_hole, real) -> None:
    path, hole = int8_with_hole
    values, transform = real
    values = values.copy()
    values[hole] = np.nan
    x, y = transform.c, transform.f
    over_hole_edge = shapely.box(x + 350.5, y - 250.5, x + 450.5, y - 50.5)  # cols 35..45 across the hole's edge
    in_hole = shapely.box(x + 500, y - 200, x + 600, y - 150)
    outside = shapely.box(x + 5000, y - 5000, x + 5100, y - 4900)
    table = gpd.GeoDataFrame(geometry=[over_hole_edge, in_hole, outside], crs=UTM16)
    out = zonal_embeddings(open_source(path), table)
    pixels, mean, _ = reference(over_hole_edge, values, transform)
    assert out["pixels"].iloc[0] == pytest.approx(pixels, rel=1e-6)
    np.testing.assert_allclose(vectors(out)[0], mean, atol=1e-5)
    for i in (1, 2):
        assert out["pixels"].iloc[i] == 0 and out["coverage"].iloc[i] == 0
        assert np.isnan(vectors(out)[i]).all() and np.isnan(out["spread"].iloc[i])


@pytest.fixture(scope="module")
def two_zones(tmp_path_factory) -> GeoTIFFSource:
    folder = tmp_path_factory.mktemp("zones")
    paths = []
    for t in [t for t in tiles(256) if t.year == 2024]:
        write_embedding_cog(folder / f"{t.name}.tif", t.codes, t.crs, t.transform, {"YEAR": "2024"})
        paths.append(folder / f"{t.name}.tif")
    return open_source({2024: paths})


def test_a_polygon_across_two_utm_zones_is_measured_on_its_zones_grid_with_the_other_warped(two_zones) -> None:
    source = two_zones
    lat = BOUNDARY_LAT
    boundary = shapely.box(-84.004, lat - 0.0045, -83.995, lat + 0.0035)  # about 700 m across the 84° W boundary
    hourglass = shapely.Polygon([(-84.003, lat - 0.002), (-83.997, lat + 0.002), (-83.997, lat - 0.002),
                                 (-84.003, lat + 0.002)])  # fmt: skip
    table = gpd.GeoDataFrame(geometry=[boundary, shapely.make_valid(hourglass)], crs="EPSG:4326")
    out = zonal_embeddings(source, table)
    for i, polygon in enumerate(table.to_crs(UTM16).geometry):
        grid = source.grid(AOI.from_bounds(*table.geometry.iloc[i].bounds))
        field = source.read_window(grid, 2024)  # the mosaic as the source reads it: 17N warped onto 16N
        assert field.mask.all()
        pixels, mean, spread = reference(polygon, field.values.astype(np.float64), grid.transform)
        assert out["pixels"].iloc[i] == pytest.approx(pixels, rel=1e-6)
        np.testing.assert_allclose(vectors(out)[i], mean, atol=1e-5)
        assert out["spread"].iloc[i] == pytest.approx(spread, abs=1e-6)


def test_many_polygons_across_chunks_on_an_executor_equal_the_polygons_one_by_one(sample) -> None:
    """Polygons across the sample's 256 px tiles and chunks: the table of all at once, on a thread executor, equals
    each polygon measured alone, year by year; and one across the corner of four chunks equals the shapely reference
    over one read of its whole box (no chunks)."""
    source = sample_source_of(sample)
    full = source.grid()
    left, bottom, right, top = full.bounds
    side = source.chunk_windows(full, CHUNK_BYTES)[0].width
    corner = shapely.Point(left + side * 10 + 3.3, top - side * 10 - 7.1).buffer(333.3)  # the four chunks' corner
    rng = np.random.default_rng(7)
    centres = shapely.points(rng.uniform(left, right, 39), rng.uniform(bottom, top, 39))
    shapes = [corner, *shapely.buffer(centres, rng.uniform(4, 900, 39))]
    table = gpd.GeoDataFrame({"id": range(40)}, geometry=shapes, crs=UTM16)
    years = source.years[:2]
    with ThreadPoolExecutor(2) as pool:
        together = zonal_embeddings(source, table, years, executor=pool)
    assert len(together) == 80 and list(together["year"][:2]) == list(years)
    for i in range(0, 40, 7):
        alone = zonal_embeddings(source, table.iloc[[i]], years)
        np.testing.assert_allclose(vectors(together)[2 * i : 2 * i + 2], vectors(alone), atol=1e-6)
        np.testing.assert_allclose(together["pixels"].iloc[2 * i : 2 * i + 2], alone["pixels"], rtol=1e-9)
    box = source.grid(AOI.from_bounds(*table.iloc[[0]].to_crs(4326).total_bounds))
    assert box.width < side and box.height < side  # one read, where the table read four chunks
    for y, year in enumerate(years):
        field = source.read_window(box, year)
        pixels, mean, spread = reference(corner, field.values.astype(np.float64), box.transform)
        assert together["pixels"].iloc[y] == pytest.approx(pixels, rel=1e-6)
        np.testing.assert_allclose(vectors(together)[y], mean, atol=1e-5)


def sample_source_of(folder) -> GeoTIFFSource:
    return open_source({int(p.stem.rsplit("_", 1)[1]): p for p in sorted(folder.glob("aef_sample_*.tif"))})


def test_polygons_are_read_from_geoparquet_geopackage_shapefile_and_geojson(real_int8, real, tmp_path) -> None:
    polygons = real_polygons(real[1])
    expected = zonal_embeddings(open_source(real_int8), polygons)
    for name in ["f.parquet", "f.gpkg", "f.shp", "f.geojson"]:
        if name.endswith(".parquet"):
            polygons.to_parquet(tmp_path / name)
        else:
            polygons.to_file(tmp_path / name)
        got = zonal_embeddings(open_source(real_int8), tmp_path / name)
        np.testing.assert_allclose(vectors(got), vectors(expected), atol=1e-6, err_msg=name)


def test_bad_tables_are_refused_in_words(real_int8, tmp_path) -> None:
    source = open_source(real_int8)
    square = shapely.box(0, 0, 1, 1)
    with pytest.raises(GeometryError, match="no CRS"):
        zonal_embeddings(source, gpd.GeoDataFrame(geometry=[square]))
    with pytest.raises(GeometryError, match="rows 1 have no geometry"):
        zonal_embeddings(source, gpd.GeoDataFrame(geometry=[square, shapely.Polygon()], crs=UTM16))
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(GeometryError, match="rows 0 are invalid polygons"):
        zonal_embeddings(source, gpd.GeoDataFrame(geometry=[bowtie], crs=UTM16))
    with pytest.raises(GeometryError, match="are not polygons \\(LineString\\)"):
        zonal_embeddings(source, gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=UTM16))
    (tmp_path / "notes.geojson").write_text("these are not polygons")
    with pytest.raises(GeometryError, match="not vector data"):
        zonal_embeddings(source, tmp_path / "notes.geojson")
    with pytest.raises(GeometryError, match="already has columns named year"):
        zonal_embeddings(source, gpd.GeoDataFrame({"year": [1]}, geometry=[square], crs=UTM16))


# points ----------------------------------------------------------------------------------------------------------
class CountingSource(GeoTIFFSource):
    """The GeoTIFF source, recording the grid of every read."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reads: list = []

    def read_window(self, grid, year, out=None):
        self.reads.append(grid)
        return super().read_window(grid, year, out)


def test_points_in_one_tile_cost_one_read_per_tile_and_equal_per_point_samples(sample, tmp_path) -> None:
    plain = sample_source_of(sample)
    source = CountingSource(plain.files, name=plain.name)
    block = plain.files[plain.years[0]][0].block
    left, bottom, right, top = plain.grid().bounds
    rng = np.random.default_rng(3)
    xs, ys = rng.uniform(left, right, 2000), rng.uniform(bottom, top, 2000)
    table = gpd.GeoDataFrame({"plot": range(2000)}, geometry=gpd.points_from_xy(xs, ys), crs=UTM16).to_crs(4326)
    out = sample_points(source, table, [2020])
    cols, rows = ~plain.grid().transform @ (xs, ys)
    tiles_hit = {(int(r) // block, int(c) // block) for r, c in zip(rows, cols)}
    assert len(source.reads) == len(tiles_hit) < 2000  # one read per tile holding points, not one per point
    for grid in source.reads:
        col0, row0 = ~plain.grid().transform @ (grid.transform.c, grid.transform.f)
        assert int(row0) // block == (int(row0) + grid.height - 1) // block  # each read inside one tile
    lonlat = np.column_stack([table.geometry.x, table.geometry.y])
    expected = plain.sample(lonlat, 2020)
    np.testing.assert_array_equal(vectors(out), expected)
    np.testing.assert_array_equal(out["valid"], np.isfinite(expected).all(axis=1))  # the sample has planted gaps
    assert out["valid"].mean() > 0.9 and list(out["plot"]) == list(range(2000))


def test_points_from_csv_with_no_data_and_outside_points_invalid(int8_with_hole, tmp_path) -> None:
    path, hole = int8_with_hole
    source = open_source(path)
    with rasterio.open(path) as ds:
        transform, crs = ds.transform, ds.crs
    xy = [transform @ (55.5, 20.5), transform @ (10.5, 50.5), (transform.c - 500, transform.f)]  # hole, data, outside
    lonlat = gpd.GeoSeries(gpd.points_from_xy(*zip(*xy)), crs=crs).to_crs(4326)
    lines = "".join(f"p{i},{p.x!r},{p.y!r}\n" for i, p in enumerate(lonlat))
    (tmp_path / "plots.csv").write_text("name,Lon,Lat\n" + lines)
    out = sample_points(source, tmp_path / "plots.csv")
    assert list(out["valid"]) == [False, True, False] and list(out["name"]) == ["p0", "p1", "p2"]
    with rasterio.open(path) as ds:
        codes = ds.read(window=((50, 51), (10, 11)))[:, 0, 0]
    np.testing.assert_allclose(vectors(out)[1], dequantize(codes), atol=1e-7)
    assert np.isnan(vectors(out)[[0, 2]]).all()
    (tmp_path / "bad.csv").write_text("name,x_coord\na,1\n")
    with pytest.raises(GeometryError, match="needs longitude and latitude columns"):
        sample_points(source, tmp_path / "bad.csv")
