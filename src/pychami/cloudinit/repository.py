"""SQL for the cloud-init data: cluster defaults, groups, instance info, host keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pychami.cloudinit import tables as t
from pychami.cloudinit.models import CloudConfigFile, ClusterDefaults, GroupData, HostKeys, InstanceInfo
from pychami.core.db import insert_for

_DEFAULTS_ROW = 1


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _group(row: Any) -> GroupData:
    return GroupData(
        name=row.name,
        description=row.description,
        meta_data=row.meta_data or {},
        file=CloudConfigFile(content=row.content, filename=row.filename, encoding=row.encoding),
    )


def _group_values(group: GroupData) -> dict[str, Any]:
    return {
        "name": group.name,
        "description": group.description,
        "meta_data": group.meta_data,
        "content": group.file.content,
        "filename": group.file.filename,
        "encoding": group.file.encoding,
        "updated_at": _now(),
    }


class CloudInitRepository:
    """Reads and writes on a connection the service opens (one transaction per operation)."""

    def __init__(self) -> None:
        self._upserts: dict[str, Any] = {}

    # revision ---------------------------------------------------------------------------------------

    def revision(self, conn: Connection) -> int:
        """The write counter (0 before the first write)."""
        value = conn.execute(
            sa.select(t.revision.c.revision).where(t.revision.c.id == _DEFAULTS_ROW)
        ).scalar()
        return int(value or 0)

    def bump_revision(self, conn: Connection) -> None:
        """Count a write (call inside the writing transaction)."""
        stmt = insert_for(conn, t.revision).values(id=_DEFAULTS_ROW, revision=1)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.revision.c.id], set_={"revision": t.revision.c.revision + 1}
            )
        )

    # cluster defaults ------------------------------------------------------------------------------

    def get_defaults(self, conn: Connection) -> ClusterDefaults:
        row = conn.execute(
            sa.select(t.cluster_defaults.c.data).where(t.cluster_defaults.c.id == _DEFAULTS_ROW)
        ).first()
        return ClusterDefaults.model_validate(row.data) if row else ClusterDefaults()

    def put_defaults(self, conn: Connection, defaults: ClusterDefaults) -> None:
        stmt = insert_for(conn, t.cluster_defaults).values(
            id=_DEFAULTS_ROW, data=defaults.to_wire(), updated_at=_now()
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.cluster_defaults.c.id],
                set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at},
            )
        )

    # groups -----------------------------------------------------------------------------------------

    def list_groups(self, conn: Connection) -> list[GroupData]:
        rows = conn.execute(sa.select(t.groups).order_by(t.groups.c.name)).all()
        return [_group(r) for r in rows]

    def get_group(self, conn: Connection, name: str) -> GroupData | None:
        row = conn.execute(sa.select(t.groups).where(t.groups.c.name == name)).first()
        return _group(row) if row else None

    def insert_group(self, conn: Connection, group: GroupData) -> bool:
        """Insert; False (nothing written) when the name exists."""
        stmt = insert_for(conn, t.groups).values(**_group_values(group))
        stmt = stmt.on_conflict_do_nothing(index_elements=[t.groups.c.name]).returning(t.groups.c.name)
        # rowcount is -1 for this statement on psycopg 3; RETURNING tells reliably.
        return conn.execute(stmt).first() is not None

    def put_group(self, conn: Connection, group: GroupData) -> None:
        values = _group_values(group)
        stmt = insert_for(conn, t.groups).values(**values)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.groups.c.name],
                set_={k: getattr(stmt.excluded, k) for k in values if k != "name"},
            )
        )

    def delete_group(self, conn: Connection, name: str) -> bool:
        stmt = sa.delete(t.groups).where(t.groups.c.name == name).returning(t.groups.c.name)
        return conn.execute(stmt).first() is not None

    # instance info ----------------------------------------------------------------------------------

    def list_instance_info(self, conn: Connection) -> list[InstanceInfo]:
        rows = conn.execute(sa.select(t.instance_info)).all()
        return [self._info(r) for r in rows]

    def get_instance_info(self, conn: Connection, node_id: str) -> InstanceInfo | None:
        row = conn.execute(sa.select(t.instance_info).where(t.instance_info.c.id == node_id)).first()
        return self._info(row) if row else None

    @staticmethod
    def _info(row: Any) -> InstanceInfo:
        return InstanceInfo.model_validate({**(row.data or {}), "id": row.id, "instance-id": row.instance_id})

    def put_instance_info(self, conn: Connection, info: InstanceInfo) -> None:
        data = {k: v for k, v in info.to_wire().items() if k not in {"id", "instance-id"}}
        stmt = insert_for(conn, t.instance_info).values(
            id=info.id, instance_id=info.instance_id, data=data, updated_at=_now()
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.instance_info.c.id],
                set_={
                    "instance_id": stmt.excluded.instance_id,
                    "data": stmt.excluded.data,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
        )

    # phone-home -------------------------------------------------------------------------------------

    def put_many_host_keys(self, conn: Connection, entries: Sequence[tuple[str, str, HostKeys]]) -> None:
        """Store (node id, address, keys) entries; of one node's entries the last wins."""
        now = _now()
        rows = {
            node_id: {"id": node_id, "ip": ip, **keys.model_dump(), "received_at": now}
            for node_id, ip, keys in entries
        }
        if rows:
            conn.execute(self._host_keys_upsert(conn), list(rows.values()))

    def _host_keys_upsert(self, conn: Connection) -> Any:
        """One upsert statement per dialect, built once (building it cost more than running it)."""
        stmt = self._upserts.get(conn.dialect.name)
        if stmt is None:
            insert = insert_for(conn, t.host_keys)
            stmt = insert.on_conflict_do_update(
                index_elements=[t.host_keys.c.id],
                set_={c.name: insert.excluded[c.name] for c in t.host_keys.columns if c.name != "id"},
            )
            self._upserts[conn.dialect.name] = stmt
        return stmt

    def get_host_keys(self, conn: Connection, node_id: str) -> dict[str, Any] | None:
        row = conn.execute(sa.select(t.host_keys).where(t.host_keys.c.id == node_id)).mappings().first()
        return dict(row) if row else None
