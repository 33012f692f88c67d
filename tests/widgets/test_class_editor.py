"""ClassEditor on its own: classes added, renamed, recoloured and deleted with their labels, driven with the messages
the browser sends (text typed, a colour picked, a class chosen, buttons clicked); labels keep pointing at the class
they were given, by name, whatever the edits do to the indices."""

from __future__ import annotations

from aef_widgets.sources.labels import LabelPoint
from aef_widgets.widgets.class_editor import ClassEditor
from aef_widgets.widgets.flow import Flow
from aef_widgets.widgets.label_picker import LabelPicker
from tests.widgets.frontend import send_custom, send_state
from tests.widgets.test_panel_close import state_observers, subscriptions


def press(button) -> None:
    send_custom(button, {"event": "click"})


def add(editor: ClassEditor, name: str, color: str | None = None) -> None:
    send_state(editor.class_name, {"value": name})
    if color is not None:
        send_state(editor.class_color, {"value": color})
    press(editor.add_button)


def test_a_class_is_added_in_its_colour_and_becomes_the_one_labelled(state, runner):
    editor = ClassEditor(state, runner=runner)
    assert editor.value == state.label_classes and [n for n, _ in editor.value] == ["Class 1", "Class 2"]
    assert editor.status in editor.children  # alone, it shows its own status line
    add(editor, "  water ", "#1F77B4")
    assert state.label_classes[-1] == ("water", "#1f77b4")  # stripped, colour in lower case
    assert editor.active.value == 2 and editor.active.label == "water"
    assert editor.class_name.value == "" and editor.class_color.value not in {c for _, c in state.label_classes}
    add(editor, "")
    assert "give the class a name" in editor.status.value and len(state.label_classes) == 3
    send_state(editor.class_name, {"value": "x"})
    send_state(editor.class_color, {"value": "green"})
    press(editor.add_button)
    assert "#rrggbb" in editor.status.value and len(state.label_classes) == 3


def test_rename_and_recolour_change_the_chosen_class_only_and_refuse_a_taken_name(state, runner):
    editor = ClassEditor(state, runner=runner)
    add(editor, "forest")
    send_state(editor.active, {"index": 0})
    send_state(editor.class_name, {"value": "forest"})
    press(editor.rename_button)
    assert "already a class called &#x27;forest&#x27;" in editor.status.value  # escaped: shown as text
    send_state(editor.class_name, {"value": "crops"})
    press(editor.rename_button)
    send_state(editor.class_color, {"value": "#00ff00"})
    press(editor.recolor_button)
    assert editor.status.value == "" and state.label_classes[0] == ("crops", "#00ff00")
    assert [label for label, _ in editor.active.options] == ["crops", "Class 2", "forest"]


def test_deleting_a_class_deletes_its_labels_and_the_others_keep_their_class(state, runner):
    editor = ClassEditor(state, runner=runner)
    picker = LabelPicker(state, runner=runner, status=editor.status)  # a list of the labels, as the panel shows
    add(editor, "forest")
    lon, lat = state.source.footprint.center_lonlat
    state.class_labels = [LabelPoint(lon + i * 1e-4, lat, target, state.year) for i, target in enumerate([0, 1, 2, 1])]
    names = lambda: [state.label_classes[p.target][0] for p in state.class_labels]  # noqa: E731
    send_state(editor.active, {"index": 1})
    press(editor.delete_button)
    assert [n for n, _ in state.label_classes] == ["Class 1", "forest"]
    assert names() == ["Class 1", "forest"] and [p.lon for p in state.class_labels] == [lon, lon + 2e-4]
    assert [text.split(" at ")[0] for text, _ in picker.label_list.options] == ["Class 1", "forest"]
    assert editor.active.label == "forest"  # the index stayed, so the class after the deleted one is chosen
    press(editor.delete_button)
    assert state.label_classes == [("Class 1", state.label_classes[0][1])] and names() == ["Class 1"]
    press(editor.delete_button)
    assert "keep at least one class" in editor.status.value and len(state.label_classes) == 1


def test_a_closed_editor_leaves_state_and_flow_as_before_and_no_longer_follows_the_state(state, runner):
    flow = Flow.of(state)
    state.label_classes = [("a", "#111111"), ("b", "#222222")]
    before = (subscriptions(flow), state_observers(state))
    editor = ClassEditor(state, runner=runner)
    editor.close()
    assert (subscriptions(flow), state_observers(state)) == before
    state.label_classes = [("c", "#333333")]
    assert [n for n, _ in editor.value] == ["a", "b"]
