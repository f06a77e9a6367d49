"""Where the daemons report boot events (``ctx.events`` in the server; a list in tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class EventSink(Protocol):
    def record(
        self,
        stage: str,
        source: str,
        *,
        xname: str | None = None,
        mac: str | None = None,
        ip: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None: ...


class ListEvents:
    """Keeps events in memory (tests, tools)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def record(
        self,
        stage: str,
        source: str,
        *,
        xname: str | None = None,
        mac: str | None = None,
        ip: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        self.items.append(
            {
                "stage": stage,
                "source": source,
                "xname": xname,
                "mac": mac,
                "ip": ip,
                "detail": dict(detail or {}),
            }
        )

    def stages(self) -> list[str]:
        return [e["stage"] for e in self.items]
