"""Drawing 10,000 fields in a browser: an ipyleaflet GeoJSON layer (one SVG path per field) against the Fields tab's
raster of field ids (one image), in Voila and Debian's Chromium, offline.

A notebook draws 10,000 nine-vertex fields of about 250 m (a 100 x 100 grid in UTM 16N) coloured by one of 8
classes, either way (``DRAW=geojson`` or ``DRAW=image``); the page is loaded, then dragged in 20 mouse steps.
Printed, from Chrome's performance metrics: script and layout seconds to show the layer, JS heap, DOM nodes, and the
script and layout seconds the pan cost. The kernel's side (what each recolouring sends) is measured in the README's
"Fields and points" paragraph.

    python tools/fields_draw.py [geojson|image] ...
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CELL = r"""
import json, os
import geopandas as gpd, numpy as np, shapely
from ipyleaflet import GeoJSON, ImageOverlay, Map
from aef_widgets.rendering.colors import categorical_colors
from aef_widgets.rendering.field_ids import field_colors, field_overlay, field_raster
rng = np.random.default_rng(0)
shapes = [shapely.Point(300000 + j * 300 + 150, 4800000 + i * 300 + 150).buffer(120 + rng.uniform(0, 20), quad_segs=2)
          for i in range(100) for j in range(100)]
fields = gpd.GeoDataFrame({"v": rng.integers(0, 8, 10000)}, geometry=shapes, crs="EPSG:32616").to_crs(4326)
colors = categorical_colors(8)
centre = fields.union_all().centroid
m = Map(center=(centre.y, centre.x), zoom=12, layout={"height": "600px"})
if os.environ["DRAW"] == "geojson":
    data = json.loads(fields.to_json())
    for f in data["features"]:
        c = colors[f["properties"]["v"]]
        f["properties"]["style"] = {"fillColor": c, "color": c, "weight": 0.5, "fillOpacity": 0.7}
    m.add(GeoJSON(data=data))
else:
    overlay = field_overlay(field_raster(fields), field_colors(fields["v"].to_numpy(), True, colors))
    m.add(ImageOverlay(url=overlay.url, bounds=overlay.bounds))
m
"""


def measure(mode: str, folder: Path) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.notebooks.kernels import write_kernelspec
    from tests.ui.server import serve

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "draw.ipynb")
    specs = write_kernelspec(folder / f"jupyter-{mode}", sys.executable, name="python3")
    env = dict(os.environ, JUPYTER_PATH=str(specs), PYTHONPATH=str(ROOT), DRAW=mode)

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "voila", "draw.ipynb", "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}"]

    with serve(command, cwd=folder, env=env, log=folder / f"voila-{mode}.log") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        local = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")
        context.route(lambda u: not u.startswith(local), lambda route: route.abort())
        page = context.new_page()
        page.set_default_timeout(300_000)
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(url)
        if mode == "geojson":
            page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length >= 10000")
        else:
            page.wait_for_function(
                "[...document.querySelectorAll('img.leaflet-image-layer')].some(i => i.complete && i.naturalWidth)"
            )

        def metrics() -> dict:
            return {x["name"]: x["value"] for x in cdp.send("Performance.getMetrics")["metrics"]}

        shown = metrics()
        box = page.locator(".leaflet-container").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        start = time.perf_counter()
        page.mouse.move(x, y)
        page.mouse.down()
        for i in range(20):
            page.mouse.move(x + 10 * i, y + 5 * i)
        page.mouse.up()
        pan_wall = time.perf_counter() - start
        panned = metrics()
        browser.close()

    def busy(m: dict) -> float:
        return m["ScriptDuration"] + m["LayoutDuration"] + m["RecalcStyleDuration"]

    return {
        "draw": mode, "script_layout_s": round(busy(shown), 2), "heap_MB": round(shown["JSHeapUsedSize"] / 1e6, 1),
        "dom_nodes": int(shown["Nodes"]), "pan_wall_s": round(pan_wall, 2),
        "pan_script_layout_s": round(busy(panned) - busy(shown), 2),
    }  # fmt: skip


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="aef-fields-draw-") as tmp:
        for mode in sys.argv[1:] or ["image", "geojson"]:
            print(json.dumps(measure(mode, Path(tmp))))
