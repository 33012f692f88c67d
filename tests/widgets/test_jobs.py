"""JobRunner: the newest request of a channel wins, whatever order the work finishes in."""

from aef_widgets.widgets.jobs import JobRunner
from tests.widgets.frontend import ManualExecutor


def test_late_results_are_dropped_and_failures_reported():
    executor = ManualExecutor()
    runner = JobRunner(executor)
    applied, failed = [], []
    runner.submit("a", lambda: "old", applied.append, failed.append)
    runner.submit("a", lambda: "new", applied.append, failed.append)
    runner.submit("b", lambda: 1 / 0, applied.append, failed.append)
    executor.run(1)  # the newer "a" first
    executor.run(0)  # the older one arrives late
    executor.run_all()
    assert applied == ["new"]
    assert len(failed) == 1 and isinstance(failed[0], ZeroDivisionError)


def test_cancel_drops_pending_work_and_busy_is_reported():
    executor = ManualExecutor()
    runner = JobRunner(executor)
    busy = []
    runner.on_busy = busy.append
    applied = []
    runner.submit("a", lambda: 1, applied.append, print)
    runner.cancel("a")
    runner.submit("b", lambda: 2, applied.append, print)
    executor.run_all()
    assert applied == [2] and busy == [True, False]
