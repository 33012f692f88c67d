"""The default map is a plain ipyleaflet Map with the controls the widgets use; geemap's options still work."""

from __future__ import annotations

import ipyleaflet
from ipywidgets import Layout

from aef_widgets.widgets import make_map


def test_default_map_is_plain_ipyleaflet_on_openstreetmap(real_source):
    m = make_map(real_source)
    assert type(m) is ipyleaflet.Map
    lon, lat = real_source.footprint.center_lonlat
    assert m.center == [lat, lon] and 1 <= m.zoom <= 18 and m.scroll_wheel_zoom
    controls = sorted((type(c).__name__, c.position) for c in m.controls)
    assert controls == [("AttributionControl", "bottomright"), ("ScaleControl", "bottomleft"),
                        ("ZoomControl", "topleft")]  # fmt: skip
    (basemap,) = m.layers
    assert basemap.base and "openstreetmap.org" in basemap.url and "OpenStreetMap" in basemap.attribution
    assert m.layout.height == "600px"


def test_geemap_options_are_accepted_and_layout_or_height_decide_the_size():
    m = make_map(None, ee_initialize=False, draw_ctrl=False, center=(10, 20), zoom=14, height="400px")
    assert type(m) is ipyleaflet.Map and m.center == [10, 20] and m.zoom == 14 and m.layout.height == "400px"
    assert make_map(None, layout=Layout(height="300px", flex="1")).layout.height == "300px"
    assert not any(isinstance(c, ipyleaflet.ScaleControl) for c in make_map(None, scale_ctrl=False).controls)


def test_asking_for_a_geemap_feature_gives_a_geemap_map():
    import geemap

    m = make_map(None, ee_initialize=False, fullscreen_ctrl=True)
    assert isinstance(m, geemap.Map)
    assert any(isinstance(c, ipyleaflet.FullScreenControl) for c in m.controls)
