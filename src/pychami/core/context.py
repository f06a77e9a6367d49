"""What a service module receives from the composition root: the shared parts of one process."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fastapi import APIRouter

from pychami.core.auth import Authorizer, LocalIssuer
from pychami.core.db import Database
from pychami.core.events import BootEventRecorder
from pychami.core.inventory import ChangeSignal, InventoryCache
from pychami.core.settings import Settings


@dataclass
class AppContext:
    """The object graph of one process, built once by ``pychami.server``; never a global."""

    settings: Settings
    db: Database
    authorizer: Authorizer
    events: BootEventRecorder
    #: Bumped by SMD on every write; caches of other services reload on the next read.
    inventory_changed: ChangeSignal
    inventory: InventoryCache
    issuer: LocalIssuer | None = None
    #: Services publish objects here for the others (e.g. ``"smd"`` -> its service object).
    registry: dict[str, Any] = field(default_factory=dict)


class ServiceModule(Protocol):
    """What every service package exposes to the composition root (``pychami/<svc>/module.py``)."""

    NAME: str
    MIGRATIONS: Path | None

    def build(self, ctx: AppContext) -> list[APIRouter]: ...
