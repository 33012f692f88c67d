"""JobRunner: the newest request of a channel wins, whatever order the work finishes in, and results are applied
on the UI loop's thread only."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from aef_widgets.widgets.jobs import Cancelled, JobRunner
from aef_widgets.widgets.ui_loop import UILoop
from tests.widgets.frontend import ManualExecutor


def test_late_results_are_dropped_and_failures_reported():
    executor = ManualExecutor()
    runner = JobRunner(executor, loop=UILoop.immediate())
    applied, failed = [], []
    runner.submit("a", lambda job: "old", applied.append, failed.append)
    runner.submit("a", lambda job: "new", applied.append, failed.append)
    runner.submit("b", lambda job: 1 / 0, applied.append, failed.append)
    executor.run(1)  # the newer "a" first
    executor.run(0)  # the older one arrives late
    executor.run_all()
    assert applied == ["new"]
    assert len(failed) == 1 and isinstance(failed[0], ZeroDivisionError)


def test_cancel_drops_pending_work_and_busy_says_what_runs():
    executor = ManualExecutor()
    runner = JobRunner(executor, loop=UILoop.immediate())
    busy = []
    runner.on_busy = busy.append
    applied = []
    runner.submit("a", lambda job: 1, applied.append, print, label="k-means")
    runner.cancel("a")
    runner.submit("b", lambda job: 2, applied.append, print, label="similarity")
    runner.submit("c", lambda job: 3, applied.append, print)  # unlabelled work never shows a bare "Working"
    executor.run_all()
    assert applied == [2, 3] and busy == ["similarity", ""]


def test_superseded_work_stops_at_its_next_progress_report():
    executor = ManualExecutor()
    runner = JobRunner(executor, loop=UILoop.immediate())
    chunks_done = []

    def work(job):
        for chunk in range(10):
            job.progress(chunk / 10, "chunk")
            chunks_done.append(chunk)
            if chunk == 2:
                runner.submit("a", lambda job: "newer", print, print)  # the user moved on meanwhile
        return "old"

    applied = []
    runner.submit("a", work, applied.append, applied.append)
    executor.run(0)
    assert chunks_done == [0, 1, 2] and applied == []  # it stopped at chunk 3's report, and said nothing


def test_results_are_applied_on_the_loop_thread_in_arrival_order():
    loop = asyncio.new_event_loop()
    ui = UILoop(loop, threading.current_thread())
    runner = JobRunner(ThreadPoolExecutor(2), loop=ui)
    seen: list[tuple[str, threading.Thread]] = []
    for i in range(20):
        runner.submit(f"c{i}", lambda job, i=i: (time.sleep(0.001 * (i % 3)), i)[1],
                      lambda r: seen.append((r, threading.current_thread())), print)  # fmt: skip

    async def settle():
        while len(seen) < 20:
            await asyncio.sleep(0.01)

    loop.run_until_complete(asyncio.wait_for(settle(), 10))
    loop.close()
    assert sorted(r for r, _ in seen) == list(range(20))
    assert {t for _, t in seen} == {threading.current_thread()}


def test_cancelled_is_what_work_raises_when_superseded():
    executor = ManualExecutor()
    runner = JobRunner(executor, loop=UILoop.immediate())
    raised = []

    def work(job):
        runner.cancel("a")
        try:
            job.check()
        except Cancelled as e:
            raised.append(e)
            raise

    runner.submit("a", work, print, print)
    executor.run_all()
    assert len(raised) == 1


def test_freed_memory_is_handed_back_once_the_runner_has_been_idle_a_while(monkeypatch):
    from aef_widgets.widgets import jobs

    trims, timers = [], []
    monkeypatch.setattr(jobs, "release_freed_memory", lambda: trims.append("trim"))
    loop = UILoop.immediate()
    monkeypatch.setattr(loop, "call_later", lambda delay, callback: timers.append((delay, callback)))
    executor = ManualExecutor()
    runner = JobRunner(executor, loop=loop)
    done = []

    def outer(job):
        executor.run(0)  # another job starts and ends while this one runs: the runner is not idle yet
        assert timers == []
        return "outer"

    runner.submit("a", outer, done.append, print)
    runner.submit("b", lambda job: "inner", done.append, print)
    executor.run(0)
    assert done == ["inner", "outer"] and trims == []  # not at once: the next click would pay for it
    [(delay, trim_later)] = timers
    assert delay == jobs.IDLE_TRIM_S
    runner.submit("a", lambda job: "again", done.append, print)
    executor.run(0)
    assert len(timers) == 1  # one trim is planned at a time
    trim_later()  # a job ran since it was planned: put off again
    assert trims == [] and len(timers) == 2
    timers[-1][1]()  # nothing since
    assert trims == ["trim"]
    runner.submit("a", lambda job: "later", done.append, print)
    executor.run(0)
    assert len(timers) == 3  # idle again: the next trim is planned


def test_a_closed_runner_drops_its_work_and_what_waits_and_takes_no_more():
    """Without a loop (a script), waiting callbacks are timers' threads: closing the runner ends them at once, and
    work queued or running for it is dropped, not applied."""
    executor = ManualExecutor()
    runner = JobRunner(executor)  # no running loop here: delayed starts and the idle trim wait in timer threads
    runner.waits = True  # as with a pool: delays are waited for
    threads = set(threading.enumerate())
    applied, progressed = [], []

    def running(job):
        runner.close()  # the explorer closes while this runs
        job.progress(0.5, "half")  # ... which stops it here
        progressed.append(True)
        return "late"

    runner.submit("now", running, applied.append, applied.append)
    runner.submit("queued", lambda job: "queued", applied.append, applied.append)
    runner.submit("delayed", lambda job: "delayed", applied.append, applied.append, delay=30.0)
    waiting = set(threading.enumerate()) - threads
    assert len(waiting) == 1  # the delayed start's timer
    executor.run_all()
    assert applied == [] and progressed == []
    for thread in waiting:
        thread.join(timeout=1.0)
        assert not thread.is_alive(), "a cancelled timer's thread still waits"
    assert runner.submit("after", lambda job: "after", applied.append, applied.append) is None
    assert executor.pending == [] and applied == []
