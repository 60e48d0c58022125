"""SimpleTaskManager: named background tasks, and a stop signal on the first failure."""

import asyncio
from collections.abc import Coroutine
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


class SimpleTaskManager:
    """Runs named background tasks; a task that fails sets `stop_signal` at once.

    The event loop keeps only weak references to tasks, so this class keeps a
    strong one to each live task and forgets it when it finishes. A task that
    ends with an exception sets `stop_signal` from its done-callback, in the same
    loop iteration (no polling). It does not log the exception: the caller
    holding the Task decides what a failure means.
    Create it inside the running event loop.
    """

    def __init__(self) -> None:
        self.stop_signal = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def add_task(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Start `coro` as a task named `name` and return the Task.

        Raises ValueError, and closes `coro` unstarted, if a task of that name
        is still running.
        """
        if name in self._tasks:
            coro.close()
            raise ValueError(f"a task named {name!r} is already running")
        task = asyncio.create_task(coro, name=name)
        self._tasks[name] = task
        task.add_done_callback(partial(self._forget, name))
        return task

    def _forget(self, name: str, task: asyncio.Task[Any]) -> None:
        del self._tasks[name]
        if not task.cancelled() and task.exception() is not None:
            self.stop_signal.set()

    def cancel_all_tasks(self) -> None:
        """Request cancellation of every live task; returns without waiting."""
        for task in self._tasks.values():
            task.cancel()

    async def catch_breaking_errors(self) -> None:
        """Wait until `stop_signal` is set: by a failed task or a stop request."""
        await self.stop_signal.wait()
