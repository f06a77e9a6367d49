"""Groups, memberships and partitions: labels, exclusive groups, members that must be components."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from pychami.core import xnames
from pychami.core.db import Database
from pychami.core.errors import BadRequest, Conflict, NotFound
from pychami.core.inventory import ChangeSignal
from pychami.smd.query import ComponentFilter
from pychami.smd.repository import ComponentsRepository, GroupsRepository, PartitionsRepository
from pychami.smd.schemas import GroupIn, GroupPatchIn, PartitionIn, PartitionPatchIn
from pychami.smd.service import wire
from pychami.smd.service.validate import require_label, require_xname
from pychami.smd.service.writes import write

GROUP_CONFLICT = (
    "operation would conflict with an existing group that has the same label"
    " or duplicate ids found in request."
)
PARTITION_CONFLICT = "operation would conflict with an existing partition that has the same name."


def _members(conn: Connection, ids: Sequence[str], what: str) -> list[str]:
    """Normalise member xnames; every one must be a stored component."""
    members: list[str] = []
    for raw in ids:
        parsed = xnames.parse(raw)
        if parsed is None:
            raise BadRequest(f"couldn't validate {what}: member '{raw}' is not a valid xname")
        members.append(parsed.xname)
    if len(set(members)) != len(members):
        raise Conflict(GROUP_CONFLICT if what == "group" else PARTITION_CONFLICT)
    missing = sorted(set(members) - ComponentsRepository(conn).existing(members))
    if missing:
        raise BadRequest(f"couldn't validate {what}: no such component(s): {', '.join(missing)}")
    return members


def _patch_values(description: str | None, tags: Sequence[str] | None) -> dict[str, Any]:
    """Columns a group or partition PATCH changes (description and/or tags); at least one is needed."""
    if description is None and tags is None:
        raise BadRequest("Request must have at least one patch field.")
    values: dict[str, Any] = {}
    if description is not None:
        values["description"] = description
    if tags is not None:
        values["tags"] = [require_label(t, "tag") for t in tags]
    return values


class GroupsService:
    def __init__(self, db: Database, changed: ChangeSignal) -> None:
        self.db = db
        self.changed = changed

    def find(self, labels: Sequence[str], tags: Sequence[str]) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = GroupsRepository(conn).query(
                [label.lower() for label in labels], [t.lower() for t in tags]
            )
        return [wire.group(g) for g in rows]

    def labels(self) -> list[str]:
        with self.db.read() as conn:
            return GroupsRepository(conn).labels()

    def get(self, label: str) -> dict[str, Any]:
        with self.db.read() as conn:
            rows = GroupsRepository(conn).query([label.lower()])
        if not rows:
            raise NotFound(f"No such group: {label}")
        return wire.group(rows[0])

    def create(self, body: GroupIn) -> str:
        label = require_label(body.label)
        tags = [require_label(t, "tag") for t in body.tags]
        exclusive = require_label(body.exclusiveGroup, "exclusiveGroup") if body.exclusiveGroup else ""
        with write(self.db, self.changed) as conn:
            repo = GroupsRepository(conn)
            if repo.exists(label):
                raise Conflict(GROUP_CONFLICT)
            members = _members(conn, body.members.ids, "group")
            clash = repo.exclusive_conflicts(exclusive, members, label)
            if clash:
                listed = ", ".join(clash)
                raise Conflict(
                    f"components already in another group of exclusive group '{exclusive}': {listed}"
                )
            repo.insert(label, body.description, tags, exclusive)
            repo.add_members(label, members)
        return label

    def patch(self, label: str, body: GroupPatchIn) -> None:
        values = _patch_values(body.description, body.tags)
        with write(self.db, self.changed) as conn:
            if GroupsRepository(conn).update(label.lower(), values) == 0:
                raise NotFound("no such group.")

    def delete(self, label: str) -> None:
        with write(self.db, self.changed) as conn:
            if GroupsRepository(conn).delete(label.lower()) == 0:
                raise NotFound("no such group.")

    def members(self, label: str) -> list[str]:
        return list(self.get(label)["members"]["ids"])

    def add_member(self, label: str, xname: str) -> str:
        key = label.lower()
        with write(self.db, self.changed) as conn:
            repo = GroupsRepository(conn)
            groups = repo.query([key])
            if not groups:
                raise NotFound(f"No such group: {label}")
            members = _members(conn, [xname], "group")
            if members[0] in groups[0]["members"]:
                raise Conflict(GROUP_CONFLICT)
            clash = repo.exclusive_conflicts(groups[0]["exclusive_group"], members, key)
            if clash:
                raise Conflict(f"{members[0]} is already in another group of the same exclusive group")
            repo.add_members(key, members)
        return members[0]

    def set_members(self, label: str, ids: Sequence[str]) -> list[str]:
        key = label.lower()
        with write(self.db, self.changed) as conn:
            repo = GroupsRepository(conn)
            groups = repo.query([key])
            if not groups:
                raise NotFound(f"No such group: {label}")
            members = _members(conn, ids, "group")
            clash = repo.exclusive_conflicts(groups[0]["exclusive_group"], members, key)
            if clash:
                raise Conflict(f"components already in another group of the same exclusive group: {clash}")
            repo.clear_members(key)
            repo.add_members(key, members)
        return members

    def remove_member(self, label: str, xname: str) -> None:
        with write(self.db, self.changed) as conn:
            repo = GroupsRepository(conn)
            if not repo.exists(label.lower()):
                raise NotFound("no such group.")
            if repo.remove_member(label.lower(), xnames.normalise(xname)) == 0:
                raise NotFound(f"no such member: {xname}")

    def memberships(self, flt: ComponentFilter) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            ids = [r.id for r in ComponentsRepository(conn).query(flt)]
            groups = GroupsRepository(conn).memberships(ids)
            parts = PartitionsRepository(conn).partition_of(ids)
        return [{"id": i, "groupLabels": groups.get(i, []), "partitionName": parts.get(i, "")} for i in ids]

    def membership(self, xname: str) -> dict[str, Any]:
        parsed = require_xname(xname)
        with self.db.read() as conn:
            if not ComponentsRepository(conn).existing([parsed.xname]):
                raise NotFound(f"No such xname: {parsed.xname}")
            groups = GroupsRepository(conn).memberships([parsed.xname])
            parts = PartitionsRepository(conn).partition_of([parsed.xname])
        return {
            "id": parsed.xname,
            "groupLabels": groups.get(parsed.xname, []),
            "partitionName": parts.get(parsed.xname, ""),
        }


class PartitionsService:
    def __init__(self, db: Database, changed: ChangeSignal) -> None:
        self.db = db
        self.changed = changed

    def find(self, names: Sequence[str], tags: Sequence[str]) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = PartitionsRepository(conn).query([n.lower() for n in names], [t.lower() for t in tags])
        return [wire.partition(p) for p in rows]

    def get(self, name: str) -> dict[str, Any]:
        with self.db.read() as conn:
            rows = PartitionsRepository(conn).query([name.lower()])
        if not rows:
            raise NotFound(f"No such partition: {name}")
        return wire.partition(rows[0])

    def create(self, body: PartitionIn) -> str:
        name = require_label(body.name, "name")
        tags = [require_label(t, "tag") for t in body.tags]
        with write(self.db, self.changed) as conn:
            repo = PartitionsRepository(conn)
            if repo.exists(name):
                raise Conflict(PARTITION_CONFLICT)
            members = _members(conn, body.members.ids, "partition")
            taken = repo.taken(members, name)
            if taken:
                raise Conflict(f"components already in another partition: {', '.join(taken)}")
            repo.insert(name, body.description, tags)
            repo.add_members(name, members)
        return name

    def patch(self, name: str, body: PartitionPatchIn) -> None:
        values = _patch_values(body.description, body.tags)
        with write(self.db, self.changed) as conn:
            if PartitionsRepository(conn).update(name.lower(), values) == 0:
                raise NotFound("no such partition.")

    def delete(self, name: str) -> None:
        with write(self.db, self.changed) as conn:
            if PartitionsRepository(conn).delete(name.lower()) == 0:
                raise NotFound("no such partition.")

    def add_member(self, name: str, xname: str) -> str:
        key = name.lower()
        with write(self.db, self.changed) as conn:
            repo = PartitionsRepository(conn)
            if not repo.exists(key):
                raise NotFound(f"No such partition: {name}")
            members = _members(conn, [xname], "partition")
            if repo.taken(members, ""):
                raise Conflict(f"{members[0]} is already in a partition")
            repo.add_members(key, members)
        return members[0]

    def remove_member(self, name: str, xname: str) -> None:
        with write(self.db, self.changed) as conn:
            repo = PartitionsRepository(conn)
            if not repo.exists(name.lower()):
                raise NotFound("no such partition.")
            if repo.remove_member(name.lower(), xnames.normalise(xname)) == 0:
                raise NotFound(f"no such member: {xname}")
