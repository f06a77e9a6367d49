"""A recording HTTP server stand-in for client-side tests of services whose servers are not merged yet."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.cli.fakesmd import Call


@dataclass
class Recorder:
    """Answers (method, path) with canned responses (default: 200 with an empty body) and records calls."""

    answers: dict[tuple[str, str], httpx.Response] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def answer(
        self, method: str, path: str, status: int = 200, body: Any = None, text: str | None = None
    ) -> None:
        if text is not None:
            self.answers[(method, path)] = httpx.Response(status, text=text)
        else:
            self.answers[(method, path)] = httpx.Response(status, json=body)

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = urlsplit(str(request.url))
        body = json.loads(request.content) if request.content else None
        self.calls.append(
            Call(request.method, url.path, parse_qsl(url.query), body, request.headers.get("Authorization"))
        )
        return self.answers.get((request.method, url.path), httpx.Response(200))
