"""The README's plain-API example runs as printed, and its numbers are the documented ones."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).parents[1] / "README.md"


def python_block_after(heading: str) -> str:
    text = README.read_text()
    section = text[text.index(heading) :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_plain_api_example_runs(capsys):
    scope: dict = {}
    exec(python_block_after("### The plain API"), scope)
    field, labels, areas, sim, score = (scope[k] for k in ("field", "labels", "areas", "sim", "score"))
    assert labels.shape == field.shape and set(np.unique(labels)) <= {-1, 0, 1, 2, 3, 4}
    assert sum(areas.pixels) == field.valid_count
    assert np.isnan(sim[~field.mask]).all() and np.nanmax(sim) <= 1.05
    assert np.nanmedian(score) < 0.1  # most of the sample does not change
    assert "hectares" in capsys.readouterr().out


def test_time_example_runs_and_writes_what_it_says(tmp_path, monkeypatch):
    import json

    import rasterio

    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(python_block_after("## Time"), scope)
    when, odd, trend, pixel, grid = (scope[k] for k in ("when", "odd", "trend", "pixel", "grid"))
    assert when.year.shape == grid.shape and odd.raw.shape == grid.shape
    assert abs(trend.to_reference[0] - 1) < 1e-6  # the reference year is itself
    assert len(pixel.rows()) == len(scope["source"].years)
    with rasterio.open("when.tif") as ds:
        assert ds.crs == grid.crs and ds.transform == grid.transform and ds.nodata == -1
    assert (tmp_path / "when_size.tif").is_file() and (tmp_path / "anomaly_2024.tif").is_file()
    polygons = json.loads((tmp_path / "when.geojson").read_text())["features"]
    assert polygons and all(f["properties"]["area_m2"] >= 500 for f in polygons)


def test_readme_shows_the_latest_full_benchmark_run():
    latest = (Path(__file__).parents[1] / "benchmarks" / "results" / "latest.md").read_text().strip()
    assert latest in README.read_text()
    assert "| target | measured | met |" in latest and "| no |" not in latest
