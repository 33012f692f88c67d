"""Earth Engine sources refuse in words: used before ``ee_init``, or asked for a grid one UTM zone cannot hold."""

from __future__ import annotations

import ee
import pytest

from aef_widgets import AOI, EarthEngineSource
from aef_widgets.core.errors import EarthEngineError, TooLargeError


def test_earth_engine_grids_wrap_and_refuse_what_one_utm_zone_cannot_hold():
    source = EarthEngineSource()
    across = source.grid(AOI.from_bounds(179.99, -17.01, 180.01, -16.99))
    assert across.crs.to_epsg() in (32760, 32701) and across.width * across.height < 250 * 250
    with pytest.raises(TooLargeError, match="spans 180° of longitude, too wide for one 10 m UTM grid"):
        source.grid(AOI.from_bounds(-180, 0, 0, 90))


def test_earth_engine_before_ee_init_says_to_sign_in():
    ee.Reset()
    with pytest.raises(EarthEngineError, match=r"not signed in yet: call aef_widgets\.ee_init\(\)") as err:
        EarthEngineSource().image(2024)
    assert "EEException" not in str(err.value)
