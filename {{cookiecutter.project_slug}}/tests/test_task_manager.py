"""SimpleTaskManager: references, names, and a stop signal on the first failure."""

import asyncio
import gc
import inspect

import pytest

from {{ cookiecutter.package_name }}.task_manager import SimpleTaskManager


async def fail() -> None:
    raise RuntimeError("boom")


async def test_a_failed_task_sets_stop_signal_within_one_loop_iteration() -> None:
    tm = SimpleTaskManager()
    tm.add_task(fail(), name="failing")
    await asyncio.sleep(0)  # the task runs and raises; its done-callbacks are scheduled
    await asyncio.sleep(0)  # they have run: no polling interval to wait for
    assert tm.stop_signal.is_set()


async def test_cancelled_and_finished_tasks_do_not_stop() -> None:
    tm = SimpleTaskManager()
    done = tm.add_task(asyncio.sleep(0), name="done")
    cancelled = tm.add_task(asyncio.sleep(10), name="cancelled")
    cancelled.cancel()
    await asyncio.wait({done, cancelled})
    await asyncio.sleep(0)
    assert not tm.stop_signal.is_set()


async def test_tasks_without_kept_handles_all_finish_and_are_forgotten() -> None:
    tm = SimpleTaskManager()
    release = asyncio.Event()
    finished: list[int] = []

    async def work(number: int) -> None:
        await release.wait()
        finished.append(number)

    for number in range(100):
        tm.add_task(work(number), name=f"work-{number}")
    gc.collect()  # with only the event loop's weak references, tasks could vanish here
    release.set()
    async with asyncio.timeout(5):
        while tm._tasks:
            await asyncio.sleep(0)
            gc.collect()
    assert sorted(finished) == list(range(100))
    assert not tm.stop_signal.is_set()


async def test_a_second_live_task_with_the_same_name_is_rejected() -> None:
    tm = SimpleTaskManager()
    first = tm.add_task(asyncio.sleep(10), name="worker")
    duplicate = asyncio.sleep(10)
    with pytest.raises(ValueError, match="'worker' is already running"):
        tm.add_task(duplicate, name="worker")
    assert inspect.getcoroutinestate(duplicate) == "CORO_CLOSED"  # no "never awaited"
    first.cancel()
    await asyncio.wait({first})
    await asyncio.sleep(0)
    tm.add_task(asyncio.sleep(0), name="worker")  # the name is free again


async def test_catch_breaking_errors_returns_on_failure() -> None:
    tm = SimpleTaskManager()
    tm.add_task(fail(), name="failing")
    await asyncio.wait_for(tm.catch_breaking_errors(), timeout=5)


async def test_cancel_all_tasks() -> None:
    tm = SimpleTaskManager()
    tasks = [tm.add_task(asyncio.sleep(10), name=str(n)) for n in range(3)]
    tm.cancel_all_tasks()
    await asyncio.wait(tasks)
    assert all(task.cancelled() for task in tasks)
