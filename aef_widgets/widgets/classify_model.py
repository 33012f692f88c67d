"""Save the classify panel's model to a file and load one again (``engines.classifier_file``), as the QGIS toolbox
allows: "Save model" writes the fitted classifier with its year, bands, class names and colours and the labels it
was trained on, and offers it as a download; "Load model" checks the file against the panel's year and the data's
bands (refusing a mismatch in words), then restores its classes and labels, from which the panel makes the map
again: on the same data that is the saved model (training is deterministic), as the note under the buttons says.
A map made on Earth Engine has no local model to save: the status line says so."""

from __future__ import annotations

import html
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ipywidgets import HTML, Button, FileUpload, HBox, Layout, VBox

from ..core.errors import AEFError
from ..sources.labels import LabelPoint
from .exports import saved_file_html
from .lifecycle import shared_widget

if TYPE_CHECKING:
    from ..engines.base import ClassProduct
    from ..engines.classifier_file import SavedClassifier
    from .state import ExplorerState

_WIDE = shared_widget(Layout(width="auto"))


class ModelOwner(Protocol):
    """What the model buttons need of the panel they serve (the classify panel): its state, its class map, where it
    writes files, its status line, and the one place its labels change. Named here, so this module does not import
    the panel's (which imports this one)."""

    state: ExplorerState

    @property
    def product(self) -> ClassProduct | None: ...

    def set_labels(self, labels: list[LabelPoint]) -> None: ...

    def show_status(self, message: str, kind: str = "info") -> None: ...

    def show_error(self, error: BaseException) -> None: ...

    _folder: Callable[[], Path]  # where its files go (``exports.export_folder``)


class ModelFiles:
    """The panel's "Save model" button and "Load model" upload; ``box`` is what the panel shows."""

    def __init__(self, panel: ModelOwner) -> None:
        self.panel = panel
        self.save_button = Button(description="Save model", layout=_WIDE)
        self.save_button.on_click(lambda _: self.save())
        self.upload = FileUpload(accept=".npz", multiple=False, description="Load model")
        self.upload.observe(self._uploaded, names="value")
        self.download = HTML()
        self.box = VBox([HBox([self.save_button, self.upload]), self.download])

    def save(self, path: str | Path | None = None) -> Path | None:
        """Write the shown map's classifier (None, with the reason in the status line, if there is none)."""
        from ..engines.classifier_file import save_classifier

        panel, product = self.panel, self.panel.product
        model = getattr(product, "model", None)
        if model is None:
            panel.show_status("Label two classes on the local engine first: its classifier is what is saved.", "error")
            return None
        classes = panel.state.label_classes
        known = [int(c) for c in model.classes_]
        names = [classes[c][0] if c < len(classes) else f"class {c}" for c in known]
        colors = [classes[c][1] if c < len(classes) else "#888888" for c in known]
        target = Path(path) if path is not None else panel._folder() / f"aef_classifier_{product.year}.npz"
        try:
            written = save_classifier(model, target, year=product.year, class_names=names, class_colors=colors,
                                      labels=(product.lonlat, product.targets))  # fmt: skip
        except (AEFError, OSError) as e:
            panel.show_error(e)
            return None
        self.download.value = saved_file_html(written)
        panel.show_status(f"Saved the {model.method_} classifier of {len(known)} classes.", "ok")
        return written

    def _uploaded(self, change) -> None:
        files = change["new"]
        if files:
            self.load(bytes(files[0]["content"]), str(files[0]["name"]))

    def load(self, data: bytes, name: str = "model.npz") -> SavedClassifier | None:
        """Check a saved classifier against the panel's year and restore its classes and labels."""
        from ..engines.classifier_file import load_classifier

        panel = self.panel
        with tempfile.TemporaryDirectory(prefix="aef-model-") as folder:
            path = Path(folder) / Path(name).name
            path.write_bytes(data)
            try:
                saved = load_classifier(path, year=panel.state.year)
            except AEFError as e:
                panel.show_error(e)
                return None
        if saved.labels_lonlat is None or not len(saved.labels_lonlat):
            panel.show_status(f"{name} holds no labels to restore: use load_classifier in Python to apply it.", "error")
            return None
        colors = list(saved.class_colors) or [f"#{i * 40:02x}8888" for i in range(len(saved.class_names))]
        index = {c: i for i, c in enumerate(saved.model.classes_.tolist())}
        points = [
            LabelPoint(float(lon), float(lat), index[t], saved.year)
            for (lon, lat), t in zip(saved.labels_lonlat, saved.labels_targets.tolist())
        ]
        with panel.state.hold_trait_notifications():  # the file's classes replace the panel's, with their labels
            panel.state.label_classes = list(zip(saved.class_names, colors))
            panel.set_labels(points)
        self.download.value = html.escape(
            f"Loaded {name}: {saved.model.method_} of {len(saved.class_names)} classes, trained on {saved.year} "
            f"with aef-widgets {saved.version}; its {len(points)} labels are restored and the map is made from them."
        )
        return saved
