"""The measures of issue 19, taken on the package as it is: circles, sizes, thread sites, and one similarity click.

- **import circles per package**: strongly connected components (Tarjan) of the graph of imports between the
  modules of one package (``core``, ``sources``, ``engines``, ...), every import form counted: module level,
  function level, under ``TYPE_CHECKING``, relative, and names followed through a package's re-exports (the
  resolution is ``tests/test_architecture.py``'s, reused, so the report and the test agree on what an import is);
- **modules over 300 lines** and **classes over 20 methods** (methods defined in the class body);
- **thread sites**: every call that creates a thread or a pool (``ThreadPoolExecutor``, ``ProcessPoolExecutor``,
  ``threading.Thread``, ``Timer``);
- **a similarity click**: an Explorer on the bundled sample, run on an asyncio loop as a kernel runs it, is sent
  the frontend's messages (``tests/widgets/frontend.py``): the Similarity tab, then ``click(m, lon, lat)`` at the
  footprint's centre, until the "Similarity" overlay is on the map. *Files crossed*: the package files whose code
  runs meanwhile, in any thread (``sys.setprofile`` and ``threading.setprofile``). *Thread hops*: along the causal
  chain from the click to the call that puts the overlay on the map, how many times the work was handed to
  another thread (an executor's ``submit`` run by a worker, a ``call_soon_threadsafe`` back to the loop): a context
  variable counts them, carried across every hand-off, and is read where the overlay is set. A warm-up Explorer
  clicks first, so module imports are not counted as part of a click; the measured Explorer has fresh caches.
  *Lines run*: the functions that ran, and the source lines they span (first to last line of each function,
  nested ones counted once): how much code a newcomer reads to follow the click, whatever the files it is in.

    python tools/architecture_report.py [--no-click]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextvars
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_architecture import (  # noqa: E402, F401
    LAYERS,
    PACKAGE,
    TOP_LEVEL,
    circles_inside_packages,
    import_graph,
    strongly_connected,
    thread_sites,
)  # fmt: skip

MAX_LINES, MAX_METHODS = 300, 20


# ---- the import graph ----------------------------------------------------------------------------------------
def circles_per_package() -> list[list[str]]:
    """Import circles inside each package: edges between modules of the same package only."""
    return circles_inside_packages(import_graph())


# ---- sizes and thread sites ------------------------------------------------------------------------------------
def long_modules() -> list[tuple[str, int]]:
    out = [(str(p.relative_to(PACKAGE)), len(p.read_text().splitlines())) for p in sorted(PACKAGE.rglob("*.py"))]
    return sorted((x for x in out if x[1] > MAX_LINES), key=lambda x: -x[1])


def big_classes() -> list[tuple[str, int]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                n = sum(isinstance(x, (ast.FunctionDef, ast.AsyncFunctionDef)) for x in node.body)
                if n > MAX_METHODS:
                    out.append((f"{path.relative_to(PACKAGE)}:{node.name}", n))
    return sorted(out, key=lambda x: -x[1])


# ---- one similarity click ----------------------------------------------------------------------------------------
HOPS: contextvars.ContextVar[int] = contextvars.ContextVar("hops", default=0)
#: The profile function, set in every thread that runs handed-off work (pool threads may predate the profiling).
_PROFILE: list = [None]


def _count_hand_offs() -> None:
    """Carry the hop count across the two hand-offs the widgets use: pool workers and the loop's thread-safe call."""
    submit = ThreadPoolExecutor.submit

    def counted_submit(self, fn, /, *args, **kwargs):
        context, caller = contextvars.copy_context(), threading.get_ident()

        def run():
            def hop():
                if sys.getprofile() is not _PROFILE[0]:
                    sys.setprofile(_PROFILE[0])
                HOPS.set(HOPS.get() + (threading.get_ident() != caller))
                return fn(*args, **kwargs)

            return context.run(hop)

        return submit(self, run)

    call_soon_threadsafe = asyncio.BaseEventLoop.call_soon_threadsafe

    def counted_call_soon_threadsafe(self, callback, *args, context=None):
        def hop(*a):  # asyncio runs this in a copy of the calling thread's context
            HOPS.set(HOPS.get() + 1)
            return callback(*a)

        return call_soon_threadsafe(self, hop, *args, context=context)

    ThreadPoolExecutor.submit = counted_submit
    asyncio.BaseEventLoop.call_soon_threadsafe = counted_call_soon_threadsafe


async def _settle(explorer, seconds: float = 120.0) -> None:
    """Wait until no job runs and nothing is waiting on the loop for a moment."""
    deadline, quiet = time.monotonic() + seconds, 0
    while time.monotonic() < deadline and quiet < 20:
        await asyncio.sleep(0.02)
        quiet = quiet + 1 if not explorer.runner._running else 0


async def _click_once(record: dict | None) -> None:
    from aef_widgets.explorer import TAB_TITLES, Explorer
    from tests.widgets.frontend import click

    explorer = Explorer()
    await _settle(explorer)
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")  # as the tab bar's click sets it
    m = explorer.map
    done = asyncio.Event()

    def layers_changed(_change) -> None:
        if not done.is_set() and any(x.name == "Similarity" for x in m.layers):
            if record is not None:
                record["hops"] = HOPS.get()
                record["recording"] = False
            done.set()

    m.observe(layers_changed, names="layers")
    lon, lat = explorer.state.source.footprint.center_lonlat
    if record is not None:
        record["recording"] = True
        record["start"] = time.perf_counter()
    HOPS.set(0)
    click(m, lon, lat)
    await asyncio.wait_for(done.wait(), 120)
    if record is not None:
        record["seconds"] = time.perf_counter() - record["start"]
    await _settle(explorer)
    explorer.close()


def similarity_click() -> dict:
    """Files crossed and thread hops of one similarity click on the bundled sample."""
    _count_hand_offs()
    record: dict = {"recording": False, "codes": set()}
    prefix = str(PACKAGE)

    def profile(frame, event, arg) -> None:
        if record["recording"] and event == "call" and frame.f_code.co_filename.startswith(prefix):
            record["codes"].add(frame.f_code)

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_click_once(None))  # warm-up: imports and the sample on disk
        _PROFILE[0] = profile
        threading.setprofile(profile)
        sys.setprofile(profile)
        loop.run_until_complete(_click_once(record))
    finally:
        _PROFILE[0] = None
        sys.setprofile(None)
        threading.setprofile(None)
        loop.close()
    codes = record.pop("codes")
    record["files"] = sorted({str(Path(c.co_filename).relative_to(PACKAGE)) for c in codes})
    record["functions"] = len(codes)
    record["lines"] = lines_spanned(codes)
    return record


def lines_spanned(codes) -> int:
    """Source lines spanned by the functions of ``codes`` (code objects), each line counted once: a function's
    span runs from its first line to its last, so a nested function or lambda adds nothing to its parent's."""
    lines: set[tuple[str, int]] = set()
    for code in codes:
        last = max((line for _, _, line in code.co_lines() if line is not None), default=code.co_firstlineno)
        lines.update((code.co_filename, n) for n in range(code.co_firstlineno, last + 1))
    return len(lines)


def floors(files: list[str]) -> dict[str, int]:
    """How many of the files crossed are on the upper floors issue 19 redesigned (engines, products, widgets, apps)
    and on the lower ones (core, data, sources, analysis, rendering), by ``tests/test_architecture.py``'s layers."""
    lower = 0
    for f in files:
        parts = Path(f).parts
        layer = TOP_LEVEL.get(Path(f).stem, "apps") if len(parts) == 1 else parts[0]
        lower += LAYERS.index(layer) < LAYERS.index("engines")
    return {"upper": len(files) - lower, "lower": lower}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-click", action="store_true", help="skip driving the Explorer")
    args = parser.parse_args()
    circles = circles_per_package()
    print(f"import circles inside packages: {len(circles)}")
    for c in circles:
        print("  " + " <-> ".join(c))
    long = long_modules()
    print(f"modules over {MAX_LINES} lines: {len(long)}")
    for name, n in long:
        print(f"  {name}: {n}")
    big = big_classes()
    print(f"classes over {MAX_METHODS} methods: {len(big)}")
    for name, n in big:
        print(f"  {name}: {n}")
    sites = thread_sites()
    modules = sorted({s.split(":")[0] for s in sites})
    print(f"thread/pool creation sites: {len(sites)} in {len(modules)} modules")
    for s in sites:
        print("  " + s)
    if not args.no_click:
        click = similarity_click()
        print(f"similarity click: {len(click['files'])} package files, {click['hops']} thread hops, "
              f"{click['seconds'] * 1000:.0f} ms to the overlay (profiled)")  # fmt: skip
        print(f"  code run: {click['functions']} functions spanning {click['lines']:,} lines")
        split = floors(click["files"])
        print(f"  upper floors (engines, products, widgets, apps): {split['upper']}; "
              f"lower floors (core, data, sources, analysis, rendering): {split['lower']}")  # fmt: skip
        for f in click["files"]:
            print("  " + f)


if __name__ == "__main__":
    main()
