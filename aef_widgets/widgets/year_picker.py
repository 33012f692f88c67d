"""YearPicker: the year every product on the map shows."""

from __future__ import annotations

from ipywidgets import Dropdown, Layout, link

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
        self.bind(self.dropdown, "year")
        link((self.state, "year"), (self, "value"))
        self.state.observe(self._source_changed, names="source")
        self.children = [self.dropdown, self.status]
        self.add_class("aef-year-picker")

    def _source_changed(self, change) -> None:
        with self.dropdown.hold_trait_notifications():
            self.dropdown.options = list(change["new"].years)
            self.dropdown.value = self.state.year
