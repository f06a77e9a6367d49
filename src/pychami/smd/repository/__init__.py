"""SMD repositories: SQL only; they never raise HTTP errors and never commit (the service does)."""

from __future__ import annotations

from pychami.smd.repository.components import ComponentsRepository
from pychami.smd.repository.endpoints import ComponentEndpointsRepository, RedfishEndpointsRepository
from pychami.smd.repository.groups import GroupsRepository, PartitionsRepository
from pychami.smd.repository.interfaces import InterfacesRepository

__all__ = [
    "ComponentEndpointsRepository",
    "ComponentsRepository",
    "GroupsRepository",
    "InterfacesRepository",
    "PartitionsRepository",
    "RedfishEndpointsRepository",
]
