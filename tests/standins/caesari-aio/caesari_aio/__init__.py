"""Test stand-in for caesari2's ``caesari_aio``: the contract the template relies on.

Not the real package. The rendered caesari project calls only this API:

- ``AsyncTaskManager()``, created inside the running loop;
- ``tm.add_task(coro, name=...) -> asyncio.Task``: keeps a strong reference to
  the live task, forgets it when done, rejects a second live task of the same name;
- a task ending with an exception sets ``tm.stop_signal`` (an ``asyncio.Event``);
- ``tm.cancel_all_tasks()`` requests cancellation and returns at once;
- ``await tm.catch_breaking_errors()`` returns once ``stop_signal`` is set.

The rendered project's guarantees hold to the extent the private package
honours this API. The implementation here is the minimal flavor's
SimpleTaskManager, copied in when the stand-in is built.
"""

from ._simple_task_manager import SimpleTaskManager as AsyncTaskManager

__all__ = ["AsyncTaskManager"]
