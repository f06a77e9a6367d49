"""``/hsm/v2/service/*``: readiness, liveness and enum values."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from pychami.core.errors import Unavailable
from pychami.core.web import message, problem
from pychami.smd.service import SMDService

PREFIX = "/hsm/v2"


def router(service: SMDService) -> APIRouter:
    r = APIRouter(prefix=PREFIX, tags=["smd"])

    @r.get("/service/ready")
    def ready() -> Response:
        """200 when the database answers, 503 otherwise."""
        try:
            service.db.ping()
        except Unavailable as exc:
            return problem(503, f"HSM's database is unhealthy: {exc.detail}")
        return message("HSM is healthy")

    @r.get("/service/liveness", status_code=204)
    def liveness() -> Response:
        """204 while the process runs."""
        return Response(status_code=204)

    return r
