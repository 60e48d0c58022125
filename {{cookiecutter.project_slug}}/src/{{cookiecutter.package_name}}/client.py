"""Business logic: {{ cookiecutter.__prefix }}Client, the service's work, independent of transport."""

{%- if cookiecutter.flavor == "caesari" %}

from caesari_aio import AsyncTaskManager as TaskManager
from caesari_logger.std_logger import get_logger
{%- else %}

from logging import getLogger as get_logger
{%- endif %}

from .environment import AppEnvironment
{%- if cookiecutter.flavor == "minimal" %}
from .task_manager import SimpleTaskManager as TaskManager
{%- endif %}

logger = get_logger(__name__)


class {{ cookiecutter.__prefix }}Client:
    """The service's business logic, started before and stopped after the transport.

    Start background work with ``self.tm.add_task(coro, name=...)``: a task
    that raises stops the service with exit code 1, and tasks still running at
    shutdown are cancelled after stop().
    """

    def __init__(self, environment: AppEnvironment, task_manager: TaskManager) -> None:
        self.env = environment
        self.tm = task_manager

    async def initialize(self) -> None:
        """Acquire resources (connections, caches) and start background tasks.

        Called once, before the server listens. It is cancelled if a stop is
        requested while it runs; an exception it raises stops the service
        (exit code 1) after the shutdown has run.
        """
        logger.info("Initializing client (mode %s)", self.env.MODE)

    async def stop(self) -> None:
        """Release what initialize() acquired.

        Called once during shutdown, after the server stopped taking requests,
        even if initialize() did not finish. An exception it raises is logged
        and makes the exit code 1; the rest of the shutdown still runs.
        """
        logger.info("Stopping client")
