"""Component rules: validation, defaults, upsert semantics (Force), patches, deletes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pychami.core import xnames
from pychami.core.db import Database
from pychami.core.errors import BadRequest, NotFound
from pychami.core.inventory import ChangeSignal
from pychami.smd import enums
from pychami.smd.query import ComponentFilter, parse_nid_ranges
from pychami.smd.repository import ComponentsRepository
from pychami.smd.schemas import ComponentIn
from pychami.smd.service import wire
from pychami.smd.service.validate import require_xname
from pychami.smd.service.writes import write


def _enum(field: str, value: str | None, what: str) -> str:
    if value is None or value == "":
        return ""
    canonical = enums.normalise(field, value)
    if canonical is None:
        raise BadRequest(f"couldn't validate components: {what} '{value}' is invalid")
    return canonical


def component_row(comp: ComponentIn) -> dict[str, Any]:
    """Validate one component and apply SMD's defaults; raise BadRequest naming the problem."""
    parsed = xnames.parse(comp.ID)
    if parsed is None:
        raise BadRequest(f"couldn't validate components: xname ID '{comp.ID}' is invalid")
    state = _enum("State", comp.State or "", "state")
    if not state:
        raise BadRequest(f"couldn't validate components: state '{comp.State or ''}' is invalid")
    row: dict[str, Any] = {
        "id": parsed.xname,
        "type": parsed.type,
        "state": state,
        "flag": _enum("Flag", comp.Flag, "flag") or "OK",
        "enabled": True if comp.Enabled is None else comp.Enabled,
        "software_status": comp.SoftwareStatus or "",
        "role": _enum("Role", comp.Role, "role"),
        "subrole": _enum("SubRole", comp.SubRole, "subrole"),
        "nid": comp.NID,
        "subtype": comp.Subtype or "",
        "net_type": _enum("NetType", comp.NetType, "nettype"),
        "arch": _enum("Arch", comp.Arch, "arch"),
        "class": _enum("Class", comp.Class, "class"),
        "reservation_disabled": bool(comp.ReservationDisabled),
        "locked": bool(comp.Locked),
    }
    if parsed.type in xnames.NODE_TYPES:
        row["role"] = row["role"] or "Compute"
        if row["nid"] is None:
            row["nid"] = xnames.bogus_nid(parsed.xname)
    if row["nid"] is not None and row["nid"] < 0:
        raise BadRequest(f"couldn't validate components: NID {row['nid']} is invalid")
    return row


class ComponentsService:
    def __init__(self, db: Database, changed: ChangeSignal) -> None:
        self.db = db
        self.changed = changed

    def find(self, flt: ComponentFilter, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = ComponentsRepository(conn).query(flt, ids)
        if flt.output:
            return [wire.component_only(r, flt.output) for r in rows]
        return [wire.component(r) for r in rows]

    def get(self, xname: str) -> dict[str, Any]:
        parsed = require_xname(xname)
        with self.db.read() as conn:
            row = ComponentsRepository(conn).get(parsed.xname)
        if row is None:
            raise NotFound("no such xname.")
        return wire.component(row)

    def by_nid(self, nid_text: str) -> dict[str, Any]:
        try:
            nid = int(nid_text)
        except ValueError:
            raise BadRequest(f"invalid NID '{nid_text}'") from None
        with self.db.read() as conn:
            row = ComponentsRepository(conn).by_nid(nid)
        if row is None:
            raise NotFound("no such NID.")
        return wire.component(row)

    def by_nid_ranges(self, ranges: Sequence[str]) -> list[dict[str, Any]]:
        if not ranges:
            raise BadRequest("Missing NIDRanges")
        parsed = parse_nid_ranges(ranges)
        with self.db.read() as conn:
            rows = ComponentsRepository(conn).by_nid_ranges(parsed)
        return [wire.component(r) for r in rows]

    def upsert(self, comps: Sequence[ComponentIn], force: bool) -> None:
        """POST/PUT semantics: insert, skip existing (or update state-like fields with force)."""
        if not comps or not comps[0].ID:
            raise BadRequest("Missing Components")
        rows: dict[str, dict[str, Any]] = {}
        for comp in comps:
            row = component_row(comp)
            rows[row["id"]] = row
        with write(self.db, self.changed) as conn:
            ComponentsRepository(conn).upsert(list(rows.values()), force)

    def put(self, xname: str, comp: ComponentIn, force: bool) -> None:
        parsed = require_xname(xname)
        if comp.ID and require_xname(comp.ID).xname != parsed.xname:
            raise BadRequest("ID in URL and POST body do not match")
        comp = comp.model_copy(update={"ID": parsed.xname})
        row = component_row(comp)
        with write(self.db, self.changed) as conn:
            repo = ComponentsRepository(conn)
            repo.upsert([row], force)

    def delete(self, xname: str) -> None:
        parsed = require_xname(xname)
        with write(self.db, self.changed) as conn:
            if ComponentsRepository(conn).delete([parsed.xname]) == 0:
                raise NotFound("no such xname.")

    def delete_all(self) -> int:
        with write(self.db, self.changed) as conn:
            count = ComponentsRepository(conn).delete(None)
        if count == 0:
            raise NotFound("no entries to delete")
        return count

    def patch(self, ids: Iterable[str], values: dict[str, Any], *, single: bool) -> None:
        """Apply ``values`` to every component in ``ids``; all must exist (one missing changes nothing)."""
        xs = sorted({require_xname(i).xname for i in ids})
        if not xs:
            raise BadRequest("Missing ComponentIDs")
        with write(self.db, self.changed) as conn:
            repo = ComponentsRepository(conn)
            missing = sorted(set(xs) - repo.existing(xs))
            if missing:
                raise NotFound("no such xname." if single else f"no such xnames: {', '.join(missing)}")
            repo.update(xs, values)

    @staticmethod
    def state_values(state: str, flag: str) -> dict[str, Any]:
        canonical = enums.normalise("State", state) if state else None
        if canonical is None:
            raise BadRequest(f"invalid state '{state}'")
        return {"state": canonical, "flag": _enum("Flag", flag, "flag") or "OK"}

    @staticmethod
    def flag_values(flag: str) -> dict[str, Any]:
        canonical = enums.normalise("Flag", flag) if flag else None
        if canonical is None:
            raise BadRequest(f"invalid flag '{flag}'")
        return {"flag": canonical}

    @staticmethod
    def role_values(role: str, subrole: str) -> dict[str, Any]:
        canonical = enums.normalise("Role", role) if role else None
        if canonical is None:
            raise BadRequest(f"invalid role '{role}'")
        return {"role": canonical, "subrole": _enum("SubRole", subrole, "subrole")}

    def set_nids(self, comps: Sequence[ComponentIn]) -> None:
        """BulkNID: give each listed component its NID, all or nothing."""
        pairs: list[tuple[str, int]] = []
        for comp in comps:
            parsed = require_xname(comp.ID)
            if comp.NID is None or comp.NID < 0:
                raise BadRequest(f"invalid NID for {parsed.xname}")
            pairs.append((parsed.xname, comp.NID))
        if not pairs:
            raise BadRequest("Missing Components")
        with write(self.db, self.changed) as conn:
            repo = ComponentsRepository(conn)
            missing = sorted({x for x, _ in pairs} - repo.existing([x for x, _ in pairs]))
            if missing:
                raise NotFound(f"no such xnames: {', '.join(missing)}")
            repo.set_nids(pairs)
