"""``/hsm/v2/groups``, ``/hsm/v2/memberships`` and ``/hsm/v2/partitions``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pychami.core.web import GoJSONResponse, message
from pychami.smd.api.common import PREFIX, READ, WRITE, created, no_content, query_items, query_multi
from pychami.smd.query import parse_filter
from pychami.smd.schemas import (
    GroupIn,
    GroupPatchIn,
    MemberIn,
    MembersPutIn,
    PartitionIn,
    PartitionPatchIn,
)
from pychami.smd.service import SMDService


def router(smd: SMDService) -> APIRouter:
    groups = smd.groups
    parts = smd.partitions
    r = APIRouter(prefix=PREFIX, tags=["smd: groups and partitions"])

    @r.get("/groups", dependencies=READ)
    def list_groups(request: Request) -> Response:
        q = query_multi(request)
        return GoJSONResponse(groups.find(q.get("group", []), q.get("tag", [])))

    @r.post("/groups", dependencies=WRITE, status_code=201)
    def create_group(body: GroupIn) -> Response:
        label = groups.create(body)
        return created([f"{PREFIX}/groups/{label}"], f"{PREFIX}/groups")

    @r.get("/groups/labels", dependencies=READ)
    def labels() -> Response:
        return GoJSONResponse(groups.labels())

    @r.get("/groups/{label}", dependencies=READ)
    def get_group(label: str) -> Response:
        return GoJSONResponse(groups.get(label))

    @r.patch("/groups/{label}", dependencies=WRITE, status_code=204)
    def patch_group(label: str, body: GroupPatchIn) -> Response:
        """Change description and/or tags (members are ignored here)."""
        groups.patch(label, body)
        return no_content()

    @r.delete("/groups/{label}", dependencies=WRITE)
    def delete_group(label: str) -> Response:
        groups.delete(label)
        return message("deleted 1 entry")

    @r.get("/groups/{label}/members", dependencies=READ)
    def members(label: str) -> Response:
        return GoJSONResponse({"ids": groups.members(label)})

    @r.post("/groups/{label}/members", dependencies=WRITE, status_code=201)
    def add_member(label: str, body: MemberIn) -> Response:
        xname = groups.add_member(label, body.id)
        return created(
            [f"{PREFIX}/groups/{label.lower()}/members/{xname}"], f"{PREFIX}/groups/{label}/members"
        )

    @r.put("/groups/{label}/members", dependencies=WRITE, status_code=201)
    def set_members(label: str, body: MembersPutIn) -> Response:
        """Replace the membership with ``ids``."""
        ids = groups.set_members(label, body.ids)
        base = f"{PREFIX}/groups/{label.lower()}/members"
        return created([f"{base}/{x}" for x in ids], base)

    @r.delete("/groups/{label}/members/{xname}", dependencies=WRITE)
    def remove_member(label: str, xname: str) -> Response:
        groups.remove_member(label, xname)
        return message("deleted 1 entry")

    @r.get("/memberships", dependencies=READ)
    def memberships(request: Request) -> Response:
        return GoJSONResponse(groups.memberships(parse_filter(query_items(request))))

    @r.get("/memberships/{xname}", dependencies=READ)
    def membership(xname: str) -> Response:
        return GoJSONResponse(groups.membership(xname))

    @r.get("/partitions", dependencies=READ)
    def list_partitions(request: Request) -> Response:
        q = query_multi(request)
        return GoJSONResponse(parts.find(q.get("partition", []), q.get("tag", [])))

    @r.post("/partitions", dependencies=WRITE, status_code=201)
    def create_partition(body: PartitionIn) -> Response:
        name = parts.create(body)
        return created([f"{PREFIX}/partitions/{name}"], f"{PREFIX}/partitions")

    @r.get("/partitions/{name}", dependencies=READ)
    def get_partition(name: str) -> Response:
        return GoJSONResponse(parts.get(name))

    @r.patch("/partitions/{name}", dependencies=WRITE, status_code=204)
    def patch_partition(name: str, body: PartitionPatchIn) -> Response:
        parts.patch(name, body)
        return no_content()

    @r.delete("/partitions/{name}", dependencies=WRITE)
    def delete_partition(name: str) -> Response:
        parts.delete(name)
        return message("deleted 1 entry")

    @r.get("/partitions/{name}/members", dependencies=READ)
    def partition_members(name: str) -> Response:
        return GoJSONResponse({"ids": parts.get(name)["members"]["ids"]})

    @r.post("/partitions/{name}/members", dependencies=WRITE, status_code=201)
    def add_partition_member(name: str, body: MemberIn) -> Response:
        xname = parts.add_member(name, body.id)
        base = f"{PREFIX}/partitions/{name.lower()}/members"
        return created([f"{base}/{xname}"], base)

    @r.delete("/partitions/{name}/members/{xname}", dependencies=WRITE)
    def remove_partition_member(name: str, xname: str) -> Response:
        parts.remove_member(name, xname)
        return message("deleted 1 entry")

    return r
