"""YearChart: one value per year, as the Time tab charts a pixel and the Fields tab a field.

Two series as lines (the main one and a second), the main one's years as points to click (a click shows that year),
a tick and a label for every year (left to d3, the axis skipped years and ticked fractions), and the legend as HTML
under the chart: bqplot draws its own legend box inside the data area, over the points. bqplot (and pandas under it)
is imported when the first chart is drawn, not with the app.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from ipywidgets import HTML, Layout, VBox

from .lifecycle import close_widget

_SWATCH = '<span style="display:inline-block;width:18px;height:3px;background:{};vertical-align:middle"></span>'


class YearChart:
    """A panel's chart of years: ``box`` is its place in the panel; ``on_year`` is told the year of a clicked point,
    and ``on_error`` what it raised (a year the state refuses is explained, not raised).

    ``colors`` and ``labels`` are the main series' and the second's; ``value_label`` names the values in the axis
    and the tooltip, ``y_min`` fixes the axis' lower end (None: fitted to the data).
    """

    def __init__(
        self,
        colors: tuple[str, str],
        labels: tuple[str, str],
        value_label: tuple[str, str],
        on_year: Callable[[int], None],
        on_error: Callable[[Exception], None],
        *,
        height: str,
        legend_class: str,
        y_min: float | None = None,
    ) -> None:
        self.colors, self.labels, self.value_label = colors, labels, value_label
        self.height, self.y_min = height, y_min
        self.on_year, self.on_error = on_year, on_error
        self.box = VBox()
        swatches = " &nbsp; ".join(f"{_SWATCH.format(c)} {label}" for c, label in zip(colors, labels))
        self.legend = HTML(f'<div style="font-size:12px">{swatches}</div>', layout=Layout(visibility="hidden"))
        self.legend.add_class(legend_class)
        self.figure = self.lines = self.points = None  # built on the first ``show``
        self.years: list[int] = []  # the year of each clickable point

    def show(self, years, main, second, selected: int | None, title: str | None = None) -> None:
        """Chart ``main`` and ``second`` (one value per year, NaN for a year without data) and mark ``selected``."""
        if self.figure is None:
            self._build()
        years, main = np.asarray(years, dtype=float), np.asarray(main, dtype=float)
        shown = np.isfinite(main)  # a year without data has no point to click
        self.years = [int(y) for y in years[shown]]
        with self.lines.hold_sync(), self.points.hold_sync():
            self.lines.x, self.lines.y = years, np.vstack([main, np.asarray(second, dtype=float)])
            self.points.x, self.points.y = years[shown], main[shown]
            self.select(selected)
            self.figure.axes[0].tick_values = np.arange(int(years.min()), int(years.max()) + 1)
            scale = self.lines.scales["x"]
            scale.min, scale.max = float(years.min()) - 0.5, float(years.max()) + 0.5  # no point on the frame
        if title is not None:
            self.figure.title = title
        self.figure.layout.visibility = self.legend.layout.visibility = "visible"

    def clear(self) -> None:
        """Nothing charted: the chart is emptied and hidden (hidden, it keeps its size)."""
        self.years = []
        if self.figure is None:
            return
        with self.lines.hold_sync(), self.points.hold_sync():
            self.lines.x, self.lines.y = [], [[], []]
            self.points.x, self.points.y, self.points.selected = [], [], None
        self.figure.title = ""
        self.figure.layout.visibility = self.legend.layout.visibility = "hidden"

    def select(self, year: int | None) -> None:
        """Mark the point of ``year`` (none if it has no point)."""
        if self.points is not None:
            self.points.selected = [self.years.index(year)] if year in self.years else None

    def close(self) -> None:
        """Close the legend, which is not a child of the panel until the first chart."""
        close_widget(self.legend)

    def _build(self) -> None:
        import bqplot

        x, y = bqplot.LinearScale(), bqplot.LinearScale(min=self.y_min)
        self.lines = bqplot.Lines(
            x=[], y=[[], []], scales={"x": x, "y": y}, colors=list(self.colors), labels=list(self.labels),
            display_legend=False,
        )  # fmt: skip
        axis_label, tooltip_label = self.value_label
        self.points = bqplot.Scatter(
            x=[], y=[], scales={"x": x, "y": y}, colors=[self.colors[0]], default_size=64,
            selected_style={"fill": "red", "stroke": "black"}, interactions={"click": "select"},
            tooltip=bqplot.Tooltip(fields=["x", "y"], labels=["year", tooltip_label], formats=["d", ".3f"]),
        )  # fmt: skip
        self.points.on_element_click(self._clicked)
        axes = [  # every year gets its tick and label in ``show``
            bqplot.Axis(scale=x, label="year", tick_format="d", tick_values=[]),
            bqplot.Axis(scale=y, side="left", label=axis_label, tick_format=".2f"),
        ]
        self.figure = bqplot.Figure(
            marks=[self.lines, self.points], axes=axes, title="",
            fig_margin={"top": 30, "bottom": 40, "left": 50, "right": 24},
            layout=Layout(width="100%", height=self.height, visibility="hidden"),
        )  # fmt: skip
        self.box.children = [self.figure, self.legend]

    def _clicked(self, _mark, content: dict) -> None:
        index = content.get("data", {}).get("index")
        if index is None or not 0 <= int(index) < len(self.years):
            return
        try:
            self.on_year(self.years[int(index)])
        except Exception as e:  # a year the state refuses is explained, not raised
            self.on_error(e)


class ChartedYears:
    """For a panel holding a ``YearChart`` as ``plot``: its parts by the names the panels had before sharing it."""

    plot: YearChart
    chart = property(lambda self: self.plot.figure, doc="The bqplot figure (None before the first chart).")
    lines = property(lambda self: self.plot.lines)
    points = property(lambda self: self.plot.points)
    legend = property(lambda self: self.plot.legend)
    chart_box = property(lambda self: self.plot.box)
