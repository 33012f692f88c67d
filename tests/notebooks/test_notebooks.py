"""The bundled notebooks run top to bottom on this environment's kernel, say what they should, and are stored clean.

Each notebook runs in a fresh temporary folder (so files it writes land there) on an ipykernel of this very
interpreter, with no Earth Engine credentials in reach.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import geopandas as gpd
import nbformat
import numpy as np
import pytest
import rasterio
import rasterio.windows
import shapely
from pyproj import Transformer
from rasterio.features import rasterize

import aef_widgets
from aef_widgets.sources.sample import cache_root, sample_dir, sample_truth
from tests.notebooks.kernels import output_text, run_notebook

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
TUTORIALS = ["quickstart", "clustering", "similarity_search", "change_detection", "fields_and_points", "earth_engine"]
ALL = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
BANDS = [f"A{i:02d}" for i in range(64)]
#: Where credentials could come from: none of them may reach a test run.
_CREDENTIAL_VARS = ("EE_", "EARTHENGINE", "GOOGLE_", "CLOUDSDK_", "AEF_WIDGETS_SOURCE")
ATTRIBUTION = "The AlphaEarth Foundations Satellite Embedding dataset is produced by Google and Google DeepMind."


def offline_env(home: Path) -> dict[str, str]:
    """This environment without any Earth Engine or Google credentials; HOME elsewhere hides stored ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CREDENTIAL_VARS)}
    home.mkdir(parents=True, exist_ok=True)
    # the sample cache and matplotlib's font cache stay where they are, so nothing is generated twice
    env.update(HOME=str(home), AEF_WIDGETS_CACHE=str(cache_root()))
    env.setdefault("MPLCONFIGDIR", str(Path.home() / ".config" / "matplotlib"))
    # the kernel imports the package under test, not whichever copy the environment has installed
    package_root = str(Path(aef_widgets.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture(scope="module", autouse=True)
def sample_ready() -> None:
    sample_dir()  # generated once here, not in the first notebook's kernel


def execute(name: str, tmp_path: Path) -> tuple[nbformat.NotebookNode, str]:
    workdir = tmp_path / "run"
    workdir.mkdir()
    nb = run_notebook(NOTEBOOKS / f"{name}.ipynb", sys.executable, workdir, env=offline_env(tmp_path / "home"))
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    stderr = [o.text for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert errors == [] and stderr == [], (errors, stderr)
    return nb, output_text(nb)


def widget_views(nb: nbformat.NotebookNode) -> int:
    return sum(WIDGET_VIEW in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


def figures(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


def percents(pattern: str, text: str) -> tuple[int, ...]:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in the output"
    return tuple(int(g) for g in match.groups())


def test_explorer_app_notebook(tmp_path):
    nb, _ = execute("explorer", tmp_path)
    assert widget_views(nb) == 1


def test_quickstart(tmp_path):
    nb, text = execute("quickstart", tmp_path)
    years = list(range(2018, 2026))
    assert f"GeoTIFFSource('Synthetic sample (not real data)', years={years}" in text
    assert f"GeoTIFFSource('my embeddings', years={years}" in text  # opened by path
    assert re.search(r"similarity of the reference to itself: (0\.99|1\.00|1\.01)", text)
    assert "the year picker shows 2023" in text and "the state's year is 2022" in text
    assert "'change years': (2018, 2025)" in text
    assert widget_views(nb) >= 8  # the explorer, six widgets alone, and the composed app


def test_clustering(tmp_path):
    nb, text = execute("clustering", tmp_path)
    assert "Widget and plain API agree: True" in text
    outputs = tmp_path / "run" / "outputs"
    assert (outputs / "clusters_widget.tif").is_file() and (outputs / "clusters_api.tif").is_file()
    assert "EPSG:32616 (10.0, 10.0)" in text and "classes: [0, 1, 2, 3, 4, 5]" in text
    assert "(1024, 1024) int16" in text  # cluster_grid labelled the whole sample
    (purity,) = percents(r"On average (\d+)% of a class falls into its main cluster", text)
    assert purity >= 70
    assert figures(nb) == 1


def test_similarity_search(tmp_path):
    nb, text = execute("similarity_search", tmp_path)
    assert re.search(r"Matches \(≥ 0\.90\): [\d,.]+ ha \([\d.]+% of valid area in the AOI at 10 m\)", text)
    assert "5 references" in text
    precision, recall = percents(
        r"With 5 references at 0\.85, (\d+)% of the matches are town and (\d+)% of the town is found", text
    )
    assert precision >= 90 and recall >= 70
    assert figures(nb) == 1


def test_change_detection(tmp_path):
    nb, text = execute("change_detection", tmp_path)
    assert "years compared: (2018, 2025)" in text
    assert re.search(r"Changed \(≥ 0\.30\): [\d,.]+ ha", text)
    precision, recall = percents(
        r"At 0\.3, (\d+)% of the detected change is real and (\d+)% of the real change is detected", text
    )
    assert precision >= 80 and recall >= 85
    assert figures(nb) == 1


def dequantised(codes: np.ndarray) -> np.ndarray:
    """The release's published int8 encoding undone here, not with the package: ``sign(q) (q / 127.5)^2``, -128
    in any band no data (NaN)."""
    q = codes.astype(np.float64)
    values = np.sign(q) * (q / 127.5) ** 2
    values[(codes == -128).any(axis=-1)] = np.nan
    return values


def zonal_reference(polygon, path: Path) -> tuple[float, np.ndarray]:
    """(pixels, renormalised mean unit vector) of ``polygon`` over the int8 GeoTIFF at ``path``: each pixel weighted
    by the area of its square inside the polygon (shapely), pixels without data left out."""
    with rasterio.open(path) as ds:
        west, south, east, north = polygon.bounds
        (c0, c1), (r0, r1) = (sorted(v) for v in ~ds.transform @ (np.array([west, east]), np.array([north, south])))
        c0, r0 = max(int(np.floor(c0)) - 1, 0), max(int(np.floor(r0)) - 1, 0)  # a pixel's margin, in the file
        c1, r1 = min(int(np.ceil(c1)) + 1, ds.width), min(int(np.ceil(r1)) + 1, ds.height)
        window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
        values = dequantised(np.moveaxis(ds.read(window=window), 0, -1))
        transform = ds.window_transform(window)
    rows, cols = np.indices(values.shape[:2])
    x0, y0 = transform @ (cols, rows)
    x1, y1 = transform @ (cols + 1, rows + 1)
    boxes = shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1))
    weights = shapely.area(shapely.intersection(boxes, polygon)) / abs(transform.a * transform.e)
    weights[np.isnan(values).any(axis=-1)] = 0.0
    unit = np.nan_to_num(values / np.linalg.norm(values, axis=-1, keepdims=True))
    mean = (weights[..., None] * unit).sum(axis=(0, 1)) / weights.sum()
    return float(weights.sum()), mean / np.linalg.norm(mean)


def test_fields_and_points(tmp_path):
    """The printed embedding of the circular field, the saved field and point tables, and the claims the text makes,
    against the sample's GeoTIFF read here with rasterio and the release's encoding undone by hand."""
    nb, text = execute("fields_and_points", tmp_path)
    outputs, tif = tmp_path / "run" / "outputs", sample_dir() / "aef_sample_2024.tif"
    assert "66 fields" in text and "132 rows (66 fields × 2 years), 70 columns" in text
    layer = gpd.read_file(outputs / "fields.gpkg").set_index("name")
    match = re.search(r"P33 in 2024: ([\d.]+) pixels, A00 A01 A02 = (-?[\d.]+) (-?[\d.]+) (-?[\d.]+)", text)
    assert match, "the circle's embedding is not printed"
    pixels, vector = zonal_reference(layer.geometry["P33"], tif)
    assert float(match[1]) == pytest.approx(pixels, abs=1e-3)
    assert pixels == pytest.approx(layer.geometry["P33"].area / 100, rel=1e-9)  # the whole circle has data
    np.testing.assert_allclose([float(match[i]) for i in (2, 3, 4)], vector[:3], atol=1e-5)

    # the saved table: the field half off the sample has half its pixels (its inside on the pixel grid, so the
    # reference is the plain mean of a block); the field beyond it has none and no made-up vector
    table = gpd.read_parquet(outputs / "fields_aef.parquet")
    now = table[table.year == 2024].set_index("name")
    with rasterio.open(tif) as ds:
        west, north = ds.transform.c, ds.transform.f
        col0, row0 = ~ds.transform @ (layer.geometry["edge"].bounds[0], layer.geometry["edge"].bounds[3])
        assert (col0, row0) == (500, 994) and row0 + 30 == ds.height  # 60 x 30 px inside, on the grid
        block = dequantised(np.moveaxis(ds.read(window=rasterio.windows.Window(500, 994, 60, 30)), 0, -1))
    unit = block / np.linalg.norm(block, axis=-1, keepdims=True)
    mean = unit.reshape(-1, 64).mean(axis=0)
    assert now.pixels["edge"] == pytest.approx(1800) and now.coverage["edge"] == pytest.approx(0.5)
    np.testing.assert_allclose(now.loc["edge", BANDS].to_numpy(float), mean / np.linalg.norm(mean), atol=1e-5)
    assert now.spread["edge"] == pytest.approx(1 - np.linalg.norm(mean), abs=1e-6)
    assert now.pixels["away"] == 0 and now.loc["away", BANDS].isna().all()
    assert layer.geometry["away"].bounds[2] <= west and len(table) == 132

    # the points: each valid row is its pixel's vector; the one beyond the sample is not valid and has none
    points = gpd.read_parquet(outputs / "plots_aef.parquet")
    xs, ys = Transformer.from_crs("EPSG:4326", "EPSG:32616", always_xy=True).transform(points.lon, points.lat)
    with rasterio.open(tif) as ds:
        for x, y, (_, row) in zip(xs, ys, points.iterrows()):
            col, line = (int(np.floor(v)) for v in ~ds.transform @ (x, y))
            if row["plot"] == "outside":
                assert not (0 <= col < ds.width) and not row.valid and row[BANDS].isna().all()
                continue
            codes = ds.read(window=rasterio.windows.Window(col, line, 1, 1))[:, 0, 0]
            assert row.valid
            np.testing.assert_allclose(row[BANDS].to_numpy(float), dequantised(codes), atol=1e-7)
    assert north > ys.max()

    # what the text says: town and forest fields get clusters of their own, cropland fields split in two; mixed
    # fields spread more; the field that changed most, P27, holds the construction planted in 2024, P61 the reservoir
    clusters = {
        m[1]: np.array(m.groups()[1:], int) for m in re.finditer(r"^(\w+) +(\d+) +(\d+) +(\d+) +(\d+)$", text, re.M)
    }
    assert {"cropland", "forest", "urban"} <= set(clusters), clusters
    town, forest = clusters["urban"].argmax(), clusters["forest"].argmax()
    assert clusters["urban"][town] == clusters["urban"].sum() and town != forest
    assert clusters["cropland"][[town, forest]].sum() == 0 and np.count_nonzero(clusters["cropland"]) == 2
    (r,) = (float(m) for m in re.findall(r"correlation of spread and the main cover's share: (-?[\d.]+)", text))
    assert r <= -0.7
    top = re.search(r"change\s+planted share\s+name\s+(P\d\d)\s+([\d.]+)\s+([\d.]+)\s+(P\d\d).*\s+(P\d\d)", text)
    truth = sample_truth()
    ids = rasterize(zip(layer.geometry, range(len(layer))), out_shape=truth.grid.shape, transform=truth.grid.transform,
                    fill=-1)  # fmt: skip
    planted = {e: np.bincount(ids[truth.event_mask(e) & (ids >= 0)], minlength=len(layer))
               for e in ("construction", "reservoir")}  # fmt: skip
    assert top and top[1] == "P27" == layer.index[planted["construction"].argmax()] and float(top[3]) >= 0.3, top
    assert "P61" in (top[4], top[5]) and planted["reservoir"][list(layer.index).index("P61")] > 0
    assert "read back equal: True" in text and "back to a field on the same grid: True" in text
    assert "the tab's similarities equal the table's: True" in text
    assert (outputs / "fields_similarity_2024.parquet").is_file()
    assert figures(nb) == 2 and widget_views(nb) == 1


def test_earth_engine_without_credentials(tmp_path):
    nb, text = execute("earth_engine", tmp_path)
    assert "No Earth Engine credentials: showing what would run." in text
    assert text.count("[no Earth Engine] would run:") >= 4
    assert widget_views(nb) == 0


@pytest.mark.earthengine
def test_earth_engine_with_credentials(tmp_path):
    from aef_widgets.ee_auth import ee_init, ee_status

    if not ee_init():
        pytest.skip(f"needs real Earth Engine credentials: {ee_status()}")
    nb = run_notebook(NOTEBOOKS / "earth_engine.ipynb", sys.executable, tmp_path, env=dict(os.environ))
    text = output_text(nb)
    assert "would run" not in text
    assert re.search(r"[\d,.]+ ha at or above 0\.9", text) and "ha changed between 2018 and 2024" in text
    assert widget_views(nb) == 1


@pytest.mark.parametrize("name", ALL)
def test_stored_without_outputs(name):
    """nbstripout-clean: no outputs, no execution counts, no per-cell or widget metadata."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    assert set(nb.metadata) <= {"kernelspec", "language_info"}
    for cell in nb.cells:
        assert cell.metadata == {}, cell.id
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorials_credit_the_dataset_and_say_what_the_data_is(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    words = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert ATTRIBUTION in words and "CC-BY 4.0" in words
    if name != "earth_engine":  # the one notebook on the real dataset
        assert "synthetic" in words and "shows no real place" in words


def test_every_notebook_is_tested():
    assert sorted(["explorer", *TUTORIALS]) == ALL
