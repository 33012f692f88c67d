"""How big each workload is: the full suite, a quick run, and a tiny run for the smoke test."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Sizes and repetitions of one run of the suite."""

    name: str
    #: (rows, cols) of the classic notebook's AOI.
    aoi: tuple[int, int]
    #: Sides of the square AOIs of the scaling workload (1, 4 and 16 Mpx in the full suite).
    scaling_sides: tuple[int, ...]
    #: Runs of each cluster workload (alternating baseline and ours); the median is reported.
    cluster_repeats: int
    warm_clicks: int
    cold_clicks: int
    #: Side of the square array the throughput workload computes on.
    throughput_side: int
    #: Repetitions of each throughput and read measurement; the median is reported.
    repeats: int
    #: Side in px of the view the release workload opens over HTTP (the target is stated for 1024).
    release_view: int = 1024
    #: Runs of each temporal workload (reads, nine years, three years, interleaved); the median is reported.
    temporal_repeats: int = 3
    #: Fewest runs of the release, classify and read-path measurements: the median of two evens out a cold first
    #: run; the smoke test, whose numbers mean nothing, runs each once (the same code, half the CPU).
    min_runs: int = 2
    #: Side in px of the region searched by the region search workload (8192: one release file; issue 21).
    region_side: int = 8192
    #: Visitors of the app startup workload, one after the other (the second meets the refilled pool).
    visitors: int = 2

    @property
    def scene_shape(self) -> tuple[int, int]:
        """The generated scene: large enough for the AOI and the largest scaling AOI (its top-left corner)."""
        side = max(self.scaling_sides)
        return (max(side, self.aoi[0]), max(side, self.aoi[1]))


FULL = Settings(
    name="full",
    aoi=(2101, 3914),
    scaling_sides=(1024, 2048, 4096),
    cluster_repeats=2,
    warm_clicks=60,
    cold_clicks=8,
    throughput_side=2048,
    repeats=5,
)
QUICK = Settings(
    name="quick",
    aoi=(525, 978),
    scaling_sides=(256, 512, 1024),
    cluster_repeats=1,
    warm_clicks=20,
    cold_clicks=3,
    throughput_side=1024,
    repeats=3,
    region_side=2048,
)
#: For the smoke test: every code path at a size that takes seconds. Its numbers mean nothing.
TINY = Settings(
    name="tiny",
    aoi=(300, 520),  # several 256 px chunks, so the streaming paths run
    scaling_sides=(128, 256, 512),
    cluster_repeats=1,
    warm_clicks=3,
    cold_clicks=1,
    throughput_side=128,
    repeats=1,
    release_view=256,
    temporal_repeats=1,
    min_runs=1,
    region_side=1024,
    visitors=1,  # each visitor is a kernel rendering the app and a Chromium page: 13 CPU s
)
PRESETS = {s.name: s for s in (FULL, QUICK, TINY)}
