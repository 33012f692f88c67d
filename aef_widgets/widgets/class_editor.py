"""ClassEditor: the classes labels are given, each a name and a colour; add, rename, recolour, delete, and which
class new labels get ("Label as").

A label's target is the index of its class, so renaming or recolouring changes no label; deleting a class removes
its labels and shifts the later ones down (``label_edits.delete_class``). A part of the classify panel, and a widget
of its own: ``ClassEditor(state)`` edits ``state.label_classes`` wherever it is shown.
"""

from __future__ import annotations

import ipywidgets as w

from ..core.errors import AEFError, LabelsError
from . import label_edits as edits
from .base import Panel
from .lifecycle import shared_widget

_WIDE = shared_widget(w.Layout(width="auto"))


class ClassEditor(Panel):
    """``value`` is the list of classes, ``(name, colour)``, kept equal to ``state.label_classes``; ``active`` is
    the class clicks and polygons label. Its words go to ``status`` (the owner's status line, when given)."""

    def __init__(self, state=None, *, status: w.HTML | None = None, **kwargs) -> None:
        super().__init__(state, status=status, **kwargs)  # a part speaks in its owner's status line
        if not self.state.label_classes:
            self.state.label_classes = edits.add_class(edits.add_class([], "Class 1"), "Class 2")
        self.active = w.Dropdown(description="Label as", layout=_WIDE)
        self.class_name = w.Text(placeholder="class name", layout=w.Layout(width="10em"))
        self.class_color = w.ColorPicker(concise=True, value=edits.next_color(self.state.label_classes))
        self.add_button = w.Button(description="Add class", layout=_WIDE)
        self.rename_button = w.Button(description="Rename", layout=_WIDE)
        self.recolor_button = w.Button(description="Set colour", layout=_WIDE)
        self.delete_button = w.Button(description="Delete class", layout=_WIDE)
        for button, action in ((self.add_button, self.new_class), (self.rename_button, self.rename),
                               (self.recolor_button, self.recolor), (self.delete_button, self.delete)):  # fmt: skip
            button.on_click(lambda _, act=action: self._edit(act))
        self.link_value("label_classes")
        self.observe(lambda _: self._classes_changed(), names="value")
        self._classes_changed()
        self.children = [
            self.active, w.HBox([self.class_name, self.class_color]), w.HBox([self.add_button, self.rename_button]),
            w.HBox([self.recolor_button, self.delete_button]), *([self.status] if status is None else []),
        ]  # fmt: skip
        self.add_class("aef-class-editor")

    @property
    def colors(self) -> list[str]:
        return [color for _, color in self.value]

    def new_class(self) -> None:
        """A new class named from the name box, in the chosen colour; it becomes the class clicks label."""
        self.value = edits.add_class(self.value, self.class_name.value, self.class_color.value)
        self.active.value = len(self.value) - 1
        self.class_name.value = ""
        self.class_color.value = edits.next_color(self.value)

    def rename(self) -> None:
        """The active class takes the name in the name box."""
        self.value = edits.rename_class(self.value, self.active.value, self.class_name.value)

    def recolor(self) -> None:
        """The active class takes the chosen colour."""
        self.value = edits.recolor_class(self.value, self.active.value, self.class_color.value)

    def delete(self) -> None:
        """Delete the active class with its labels (at least one class stays)."""
        state = self.state
        if len(state.label_classes) <= 1:
            raise LabelsError("keep at least one class")
        classes, labels = edits.delete_class(state.label_classes, state.class_labels, self.active.value)
        with state.hold_trait_notifications():  # classes and labels change together: no label of a missing class
            state.class_labels = labels
            state.label_classes = classes

    def _edit(self, action) -> None:
        try:
            action()
            self.show_status("")
        except AEFError as e:
            self.show_error(e)

    def _classes_changed(self) -> None:
        classes = self.value
        current = self.active.value if self.active.value is not None else 0
        self.active.options = [(name, i) for i, (name, _) in enumerate(classes)]
        self.active.value = min(current, len(classes) - 1)
