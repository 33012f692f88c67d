"""tools/architecture_report.py and the circle finder it shares with tests/test_architecture.py: planted circles are
found in every import form, and only circles."""

from __future__ import annotations

from tests.test_architecture import import_graph, strongly_connected
from tools.architecture_report import floors, lines_spanned, thread_sites


def graph_of(sources: dict[tuple[str, ...], str]) -> dict:
    return {here: targets & set(sources) for here, targets in import_graph(sources).items()}


def test_a_circle_through_a_function_level_and_a_type_checking_import_is_found():
    sources = {
        ("engines", "a"): "from .b import B",
        ("engines", "b"): "def f():\n    from .c import C",
        ("engines", "c"): "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A",
        ("engines", "d"): "from .a import A",  # leads into the circle, is not part of it
    }
    assert strongly_connected(graph_of(sources)) == [[("engines", "a"), ("engines", "b"), ("engines", "c")]]


def test_a_chain_is_not_a_circle():
    sources = {("core", "a"): "from .b import B", ("core", "b"): "from .c import C", ("core", "c"): "import numpy"}
    assert strongly_connected(graph_of(sources)) == []


def test_two_separate_circles_are_two_components():
    graph = {1: {2}, 2: {1}, 3: {4}, 4: {5}, 5: {3}, 6: {1, 3}}
    assert sorted(strongly_connected(graph)) == [[1, 2], [3, 4, 5]]


def test_the_execution_modules_pools_are_among_the_thread_sites():
    sites = thread_sites()
    assert sum(s.startswith("core/execution.py:") and s.endswith("ThreadPoolExecutor") for s in sites) == 2


def test_the_click_s_files_are_split_into_upper_and_lower_floors_by_the_architecture_layers():
    files = ["core/grid.py", "sources/geotiff.py", "ee_auth.py", "rendering/png.py", "analysis/similarity.py",
             "engines/local.py", "products/similarity.py", "widgets/base.py", "explorer.py"]  # fmt: skip
    assert floors(files) == {"upper": 4, "lower": 5}


def test_lines_run_count_each_line_of_a_nested_function_once():
    source = "def outer():\n    def inner():\n        return 1\n\n    return inner\n\n\ndef other():\n    pass\n"
    namespace: dict = {}
    exec(compile(source, "planted.py", "exec"), namespace)
    outer, other = namespace["outer"].__code__, namespace["other"].__code__
    inner = namespace["outer"]().__code__
    assert lines_spanned([outer]) == 5  # lines 1-5, the blank line inside included
    assert lines_spanned([outer, inner]) == 5  # inner's lines 2-3 are outer's too
    assert lines_spanned([outer, inner, other]) == 7  # other: lines 8-9; the blank lines between are no one's
