"""Business logic: {{ cookiecutter.__prefix }}Client, the service's work, independent of transport."""

from dataclasses import dataclass
{%- if cookiecutter.flavor == "minimal" %}
from logging import getLogger as get_logger
{%- endif %}
{%- if cookiecutter.flavor == "caesari" %}

from caesari_aio import AsyncTaskManager as TaskManager
from caesari_logger.std_logger import get_logger
{%- endif %}

from .environment import AppEnvironment
{%- if cookiecutter.flavor == "minimal" %}
from .task_manager import SimpleTaskManager as TaskManager
{%- endif %}

logger = get_logger(__name__)


@dataclass(frozen=True)
class Item:
    """An item of the example API; `id` is a decimal string, unique in this process."""

    id: str
    name: str


class {{ cookiecutter.__prefix }}Client:
    """The service's business logic, started before and stopped after the transport.

    Start background work with ``self.tm.add_task(coro, name=...)``: a task
    that raises stops the service with exit code 1, and tasks still running at
    shutdown are cancelled after stop().
    """

    def __init__(self, environment: AppEnvironment, task_manager: TaskManager) -> None:
        self.env = environment
        self.tm = task_manager
        self._items: dict[str, Item] = {}  # the example API's store: replace with yours

    async def add_item(self, name: str) -> Item:
        """Store a new item called `name` and return it with its new id."""
        item = Item(id=str(len(self._items) + 1), name=name)
        self._items[item.id] = item
        return item

    async def get_item(self, item_id: str) -> Item | None:
        """Return the item with id `item_id`, or None if there is none."""
        return self._items.get(item_id)

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
