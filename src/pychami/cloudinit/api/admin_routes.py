"""Admin routes (``/cloud-init/admin``, bearer token with cloud-init:read / cloud-init:write)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from pychami.cloudinit import documents
from pychami.cloudinit.api.node_routes import TEXT, YAML
from pychami.cloudinit.models import ClusterDefaults, GroupData, InstanceInfo
from pychami.cloudinit.service import CloudInitService
from pychami.core.errors import BadRequest, Unprocessable
from pychami.core.web import GoJSONResponse, require

PREFIX = "/cloud-init/admin"
READ = [Depends(require("cloud-init:read"))]
WRITE = [Depends(require("cloud-init:write"))]
JSONBody = Annotated[Any, Body()]


def _detail(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(parts)


def _parse(model: type[Any], payload: Any, error: type[Exception] = BadRequest) -> Any:
    if isinstance(payload, (bytes, str)):
        # Upstream reads JSON whatever the Content-Type says (curl -d sends form-urlencoded).
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise BadRequest(f"error decoding JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise error(f"request body must be a JSON object, not {type(payload).__name__}")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise error(f"invalid request: {_detail(exc)}") from exc


def _created(location: str | None = None) -> Response:
    return Response(status_code=201, headers={"Location": location} if location else None)


def router(service: CloudInitService) -> APIRouter:
    r = APIRouter(prefix=PREFIX, tags=["cloud-init admin"])

    @r.get("/cluster-defaults", dependencies=READ)
    def get_defaults() -> Response:
        """The cluster defaults (empty fields omitted)."""
        return GoJSONResponse(service.get_defaults().to_wire())

    @r.post("/cluster-defaults", dependencies=WRITE, status_code=201)
    def set_defaults(payload: JSONBody = None) -> Response:
        """Merge: only the non-empty fields of the body overwrite; 201 with an empty body."""
        service.set_defaults(_parse(ClusterDefaults, payload))
        return _created()

    @r.get("/groups", dependencies=READ)
    def list_groups() -> Response:
        """Every group as an object keyed by name (tab-indented, as upstream)."""
        body = {g.name: g.to_wire() for g in service.list_groups()}
        return Response(json.dumps(body, indent="\t", ensure_ascii=False), media_type="application/json")

    @r.post("/groups", dependencies=WRITE, status_code=201)
    def add_group(payload: JSONBody = None) -> Response:
        """Add a group; 409 when it exists, 400 when its config is invalid (nothing stored)."""
        group = service.add_group(_parse(GroupData, payload, Unprocessable))
        return _created(f"/groups/{group.name}")

    @r.get("/groups/{name}", dependencies=READ)
    def get_group(name: str) -> Response:
        """One group."""
        return GoJSONResponse(service.get_group(name).to_wire())

    @r.put("/groups/{name}", dependencies=WRITE, status_code=201)
    def put_group(name: str, payload: JSONBody = None) -> Response:
        """Create or replace a group; 400 when its config is invalid (nothing stored)."""
        group = service.put_group(name, _parse(GroupData, payload, Unprocessable))
        return _created(f"/groups/{group.name}")

    @r.delete("/groups/{name}", dependencies=WRITE)
    def delete_group(name: str) -> Response:
        """Delete a group (200 even when it does not exist)."""
        service.delete_group(name)
        return Response(status_code=200)

    @r.put("/instance-info/{node_id}", dependencies=WRITE, status_code=201)
    def put_instance_info(node_id: str, payload: JSONBody = None) -> Response:
        """Replace a node's overrides (hostnames, public keys, base URL ...); the instance-id is kept."""
        service.put_instance_info(node_id, _parse(InstanceInfo, payload))
        return _created()

    @r.get("/instance-info/{node_id}", dependencies=READ)
    def get_instance_info(node_id: str) -> Response:
        """A node's overrides and instance-id (pychami extension)."""
        return GoJSONResponse(service.get_instance_info(node_id).to_wire())

    @r.get("/phone-home/{node_id}", dependencies=READ)
    def get_host_keys(node_id: str) -> Response:
        """The host keys a node reported on its last phone-home (pychami extension)."""
        row = service.host_keys(node_id)
        return GoJSONResponse({k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()})

    if service.settings.impersonation:

        @r.get("/impersonation/{node_id}/meta-data", dependencies=READ)
        def imp_meta(node_id: str) -> Response:
            """Any node's meta-data."""
            return Response(service.impersonate_meta_data(node_id), media_type=YAML)

        @r.get("/impersonation/{node_id}/user-data", dependencies=READ)
        def imp_user(node_id: str) -> Response:
            """Any node's user-data."""
            service.node(node_id)
            return Response(documents.USER_DATA, media_type=TEXT)

        @r.get("/impersonation/{node_id}/vendor-data", dependencies=READ)
        def imp_vendor(node_id: str) -> Response:
            """Any node's vendor-data."""
            return Response(service.impersonate_vendor_data(node_id), media_type=TEXT)

        @r.get("/impersonation/{node_id}/{group}.yaml", dependencies=READ)
        def imp_group(node_id: str, group: str) -> Response:
            """Any node's view of a group config."""
            return Response(service.impersonate_group_config(node_id, group), media_type=TEXT)

    return r
