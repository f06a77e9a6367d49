"""``/hsm/v2/service/*``: readiness, liveness and enum values."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from pychami.core.web import GoJSONResponse, message, problem
from pychami.smd import enums
from pychami.smd.service import SMDService

PREFIX = "/hsm/v2"
_VALUE_KEYS = {k.lower(): k for k in enums.VALUES}


def router(service: SMDService) -> APIRouter:
    r = APIRouter(prefix=PREFIX, tags=["smd"])

    @r.get("/service/ready")
    def ready() -> Response:
        """200 when the database answers, 503 otherwise."""
        reason = service.healthy()
        if reason is not None:
            return problem(503, f"HSM's database is unhealthy: {reason}")
        return message("HSM is healthy")

    @r.get("/service/liveness", status_code=204)
    def liveness() -> Response:
        """204 while the process runs."""
        return Response(status_code=204)

    @r.get("/service/values")
    def values() -> Response:
        """Every enumeration SMD validates against."""
        return GoJSONResponse({k: list(v) for k, v in enums.VALUES.items()})

    @r.get("/service/values/{which}")
    def one_value(which: str) -> Response:
        key = _VALUE_KEYS.get(which.lower())
        if key is None:
            return problem(404, f"no such value list: {which}")
        return GoJSONResponse({key: list(enums.VALUES[key])})

    return r
