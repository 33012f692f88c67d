"""YearPicker: the year every product on the map shows."""

from __future__ import annotations

from ipywidgets import Dropdown, Layout
from traitlets import TraitError

from .base import Panel


class YearPicker(Panel):
    """Choose one of the source's years; ``value`` is the year (an int)."""

    def __init__(self, state=None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        self.dropdown = Dropdown(
            options=list(self.state.source.years), value=self.state.year, description="Year",
            layout=Layout(width="auto"),
        )  # fmt: skip
        self.value = self.state.year
        self.dropdown.observe(self._picked, names="value")
        self.link_value("year")
        self.listen(self.state, self._show_year, ["year", "source"])
        self.children = [self.dropdown, self.status]
        self.add_class("aef-year-picker")

    def _picked(self, change) -> None:
        try:
            self.state.year = change["new"]
        except TraitError as e:
            self.show_error(e)

    def _show_year(self, _change=None) -> None:
        """The state's year, among the state's source's years (a new source brings both at once)."""
        self.dropdown.unobserve(self._picked, names="value")
        try:
            years = list(self.state.source.years)
            if tuple(years) != tuple(self.dropdown.options):
                self.dropdown.options = years
            self.dropdown.value = self.state.year
        finally:
            self.dropdown.observe(self._picked, names="value")
