"""SMD domain rules and transactions, one service object per entity behind one facade."""

from __future__ import annotations

from pychami.core.db import Database
from pychami.core.errors import Unavailable
from pychami.core.inventory import ChangeSignal
from pychami.smd.service.components import ComponentsService
from pychami.smd.service.endpoints import EndpointsService
from pychami.smd.service.groups import GroupsService, PartitionsService
from pychami.smd.service.interfaces import InterfacesService
from pychami.smd.service.inventory import SMDInventorySource


class SMDService:
    """Entry point of every SMD operation; each write is one transaction and signals a change."""

    def __init__(self, db: Database, changed: ChangeSignal) -> None:
        self.db = db
        self.changed = changed
        self.components = ComponentsService(db, changed)
        self.interfaces = InterfacesService(db, changed)
        self.endpoints = EndpointsService(db, changed)
        self.groups = GroupsService(db, changed)
        self.partitions = PartitionsService(db, changed)

    def healthy(self) -> str | None:
        """None when the database answers, else the reason."""
        try:
            self.db.ping()
        except Unavailable as exc:
            return exc.detail
        return None


__all__ = ["SMDInventorySource", "SMDService"]
