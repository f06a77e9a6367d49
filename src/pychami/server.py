"""Composition root: settings -> database -> auth -> services -> one ASGI app (and daemons)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response

from pychami import __version__
from pychami.bootfiles import module as bootfiles_module
from pychami.bss import module as bss_module
from pychami.cloudinit import module as cloudinit_module
from pychami.core import migrate
from pychami.core.auth import Authorizer, KeySource, LocalIssuer, TokenVerifier
from pychami.core.context import AppContext, ServiceModule
from pychami.core.db import Database
from pychami.core.errors import ConfigError
from pychami.core.events import BootEventRecorder
from pychami.core.inventory import ChangeSignal, InventoryCache, InventorySource
from pychami.core.lane import LANE_BODY_ROUTES, LANE_ROUTES, Lane, LaneMiddleware, lane_protocol
from pychami.core.logs import get_logger
from pychami.core.settings import AuthMode, Settings
from pychami.core.web import (
    GoJSONResponse,
    Metrics,
    RequestContextMiddleware,
    error_reply,
    install_error_handlers,
    lane_observer,
    metrics_response,
    new_request_id,
    problem,
)
from pychami.netboot import module as netboot_module
from pychami.smd import module as smd_module
from pychami.smd.service import SMDInventorySource
from pychami.status import module as status_module

log = get_logger("pychami.server")

#: Every HTTP service of the all-in-one server, in mount order.
SERVICES: Sequence[ServiceModule] = (
    smd_module,
    bss_module,
    cloudinit_module,
    netboot_module,
    bootfiles_module,
    status_module,
)


#: Nice value of the netboot process next to HTTP workers: DHCP answers are small and time-critical
#: (clients retransmit after 1-4 s), HTTP requests can wait a little.
NETBOOT_PRIORITY = -5

#: Services whose caches are loaded when a process starts, not by the first request of a storm.
WARM_AT_START = (bss_module.NAME, cloudinit_module.NAME)


def migration_dirs() -> list[Path]:
    return [m.MIGRATIONS for m in SERVICES if m.MIGRATIONS is not None]


def open_database(settings: Settings) -> Database:
    if settings.db is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database.from_url(settings.database_url)


def upgrade_schema(db: Database) -> None:
    migrate.upgrade(db, migration_dirs())


def check_schema(db: Database) -> None:
    """Refuse to serve a database whose schema is behind this code (PostgreSQL is migrated explicitly)."""
    wanted = set(migrate.heads(db, migration_dirs()))
    have = migrate.current(db, migration_dirs())
    if not wanted <= have:
        raise ConfigError(
            "database schema is not up to date "
            f"(missing: {', '.join(sorted(wanted - have))}): run `pychami db upgrade --db URL` first"
        )


def build_authorizer(settings: Settings) -> tuple[Authorizer, LocalIssuer | None]:
    auth = settings.auth
    if auth.mode is AuthMode.DISABLED:
        return Authorizer(None), None
    if auth.mode is AuthMode.LOCAL:
        issuer = LocalIssuer.load_or_create(settings.data_dir, settings.token_issuer, auth.audience)
        keys = KeySource(jwks=issuer.jwks())
        verifier = TokenVerifier(keys, issuer.issuer, auth.audience, leeway=auth.leeway)
        return Authorizer(verifier, enforce_scopes=not auth.compat_any_scope), issuer
    keys = KeySource(url=auth.jwks_url, ttl=auth.jwks_cache_seconds)
    verifier = TokenVerifier(keys, auth.issuer, auth.audience or None, leeway=auth.leeway)
    return Authorizer(verifier, enforce_scopes=not auth.compat_any_scope), None


def build_context(
    settings: Settings, db: Database | None = None, inventory_source: InventorySource | None = None
) -> AppContext:
    """The object graph of one process; ``inventory_source`` replaces SMD's (tests, tools)."""
    db = db or open_database(settings)
    authorizer, issuer = build_authorizer(settings)
    signal = ChangeSignal()
    return AppContext(
        settings=settings,
        db=db,
        authorizer=authorizer,
        events=BootEventRecorder(db),
        inventory_changed=signal,
        inventory=InventoryCache(inventory_source or SMDInventorySource(db), signal),
        issuer=issuer,
    )


def create_app(
    settings: Settings,
    *,
    db: Database | None = None,
    migrate_schema: bool = True,
    inventory_source: InventorySource | None = None,
) -> FastAPI:
    """The all-in-one ASGI application."""
    owns_db = db is None
    ctx = build_context(settings, db, inventory_source)
    if migrate_schema:
        upgrade_schema(ctx.db)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        ctx.events.start()
        for name in WARM_AT_START:
            service = ctx.registry.get(name)
            if service is not None:
                try:
                    service.warm()
                except Exception as exc:  # e.g. database down: the first request tries again
                    log.warning("cache warm-up failed", service=name, error=str(exc))
        netboot = ctx.registry.get(netboot_module.NAME)  # DHCP/TFTP daemons when interfaces are set
        if netboot is not None:
            await netboot.start()
        try:
            yield
        finally:
            if netboot is not None:
                await netboot.stop()
            ctx.events.stop()
            if owns_db:
                ctx.db.dispose()

    app = FastAPI(
        title="pychami",
        version=__version__,
        description=(
            "SMD (/hsm/v2), BSS (/boot/v1) and cloud-init (/cloud-init) with the OpenCHAMI wire formats."
        ),
        default_response_class=GoJSONResponse,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        # Trailing slashes are stripped before routing (chi's StripSlashes), so never redirect.
        redirect_slashes=False,
    )
    app.state.ctx = ctx
    app.state.authorizer = ctx.authorizer
    install_error_handlers(app)
    for module in SERVICES:
        for router in module.build(ctx):
            app.include_router(router)

    @app.get("/healthz", tags=["operations"], include_in_schema=True)
    def healthz() -> Response:
        """Liveness plus database reachability."""
        try:
            ctx.db.ping()
        except Exception as exc:
            return problem(503, f"database unavailable: {exc}")
        return GoJSONResponse({"status": "ok", "version": __version__})

    @app.get("/metrics", tags=["operations"])
    def prometheus() -> Response:
        """Prometheus metrics of this process."""
        for state, value in ctx.db.pool_status().items():
            metrics.db_pool.labels(state).set(value)
        return metrics_response(metrics)

    @app.get("/.well-known/jwks.json", tags=["auth"])
    def jwks(request: Request) -> Response:
        """Public keys of pychami's own token issuer (404 when an external issuer is used)."""
        del request
        if ctx.issuer is None:
            return problem(404, "this server does not issue tokens (auth.mode is not 'local')")
        return GoJSONResponse(ctx.issuer.jwks())

    # Node-facing answers (the lane): in the HTTP protocol of `serve` (see run_http) and, for other
    # servers and in-process clients, as the middleware right inside the request context.
    access_log = settings.log_level == "DEBUG"
    lane = Lane(
        ctx.registry.get(LANE_ROUTES, {}),
        error_reply,
        lane_observer(metrics, access_log),
        body_routes=ctx.registry.get(LANE_BODY_ROUTES, {}),
        max_body=settings.max_body_bytes,
    )
    app.state.lane = lane
    if lane:
        app.add_middleware(LaneMiddleware, lane=lane)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        max_body=settings.max_body_bytes,
        access_log=access_log,
    )
    return app


def serve(settings: Settings) -> None:
    """Serve the app (and the netboot daemons) until SIGINT/SIGTERM, in ``settings.workers`` processes.

    One worker: this process runs uvicorn (and the DHCP/TFTP daemons on the same event loop). Several:
    the schema is checked once here, then each forked HTTP worker builds its own app (caches, database
    pool, boot-event recorder) and listens on its own ``SO_REUSEPORT`` socket, so the kernel spreads
    connections over them; the DHCP and TFTP daemons, when configured, get a process of their own, so a
    boot storm's HTTP load never delays a DHCP answer. This process only supervises: a signal is passed
    on to every child, and when one child dies the others are stopped too (exit status 1).
    """
    sqlite = settings.database_url.startswith("sqlite")
    if settings.workers == 1:
        app = create_app(settings, migrate_schema=sqlite)
        if not sqlite:
            check_schema(app.state.ctx.db)
        run_http(app, settings)
        return
    db = open_database(settings)
    try:
        if sqlite:
            upgrade_schema(db)
        else:
            check_schema(db)
    finally:
        db.dispose()
    build_authorizer(settings)  # the local signing key is created once, not raced by the workers
    _reuseport_socket(settings).close()  # fail here (address in use) rather than in every worker
    http_only = settings.model_copy(update={"netboot": {**settings.netboot, "interfaces": []}})
    targets: list[Callable[[], None]] = [lambda: _http_worker(http_only)] * settings.workers
    from pychami.netboot.settings import parse_netboot_settings  # noqa: PLC0415

    if parse_netboot_settings(settings.netboot).enabled:
        targets.append(lambda: _netboot_worker(settings))
    children = []
    for target in targets:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child (measured by the worker tests, not here)
            status = 1
            try:
                target()
                status = 0
            finally:
                os._exit(status)
        children.append(pid)
    sys.exit(_supervise(children))


def _http_worker(settings: Settings) -> None:  # pragma: no cover - runs in forked children
    app = create_app(settings, migrate_schema=False)
    run_http(app, settings, _reuseport_socket(settings))


def _netboot_worker(settings: Settings) -> None:  # pragma: no cover - runs in a forked child
    """The DHCP and TFTP daemons alone, as ``pychami netboot`` runs them, ahead of HTTP work."""
    with contextlib.suppress(PermissionError):  # root (as DHCP on port 67 is): ahead of HTTP work
        os.setpriority(os.PRIO_PROCESS, 0, NETBOOT_PRIORITY)
    run_netboot(settings)


def run_netboot(settings: Settings, *, migrate_schema: bool = False) -> None:
    """Run the DHCP and TFTP daemons until interrupted (``pychami netboot``; the netboot process of
    ``serve --workers``), with their own inventory cache and boot-event recorder."""
    import asyncio  # noqa: PLC0415

    from pychami.netboot.daemon import NetbootDaemon  # noqa: PLC0415
    from pychami.netboot.settings import parse_netboot_settings  # noqa: PLC0415

    cfg = parse_netboot_settings(settings.netboot)
    if not cfg.enabled:
        raise ConfigError("netboot needs --interface (or netboot.interfaces in the config file)")
    ctx = build_context(settings)
    if migrate_schema:
        upgrade_schema(ctx.db)
    daemon = NetbootDaemon(
        cfg,
        boot_url=cfg.boot_url or settings.base_url,
        inventory=ctx.inventory.get,
        events=ctx.events,
        db=ctx.db,
    )
    ctx.events.start()
    try:
        asyncio.run(daemon.run_forever())
    except KeyboardInterrupt:
        pass
    finally:
        ctx.events.stop()
        ctx.db.dispose()


def _reuseport_socket(settings: Settings) -> socket.socket:
    host = settings.listen_host
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, settings.listen_port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {settings.listen}: {exc.strerror}") from exc
    return sock


def http_protocol(app: FastAPI, settings: Settings) -> type[asyncio.Protocol] | str:
    """uvicorn's ``http``: the lane protocol when the app has lane routes and ``node_lane`` is on."""
    lane: Lane | None = getattr(app.state, "lane", None)
    if lane and settings.node_lane:
        return lane_protocol(lane, new_request_id)
    return "httptools"


def run_http(app: FastAPI, settings: Settings, sock: socket.socket | None = None) -> None:
    """Serve ``app`` as ``pychami serve`` does: uvicorn (uvloop) with the lane protocol when the app has
    lane routes, on ``settings.listen`` or on ``sock`` (a worker's SO_REUSEPORT socket)."""
    import uvicorn  # noqa: PLC0415 - only the serving process needs it

    config = uvicorn.Config(
        app,
        host=settings.listen_host,
        port=settings.listen_port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        backlog=4096,
        http=http_protocol(app, settings),
    )
    server = uvicorn.Server(config)
    if sock is None:
        server.run()
        return
    sock.listen(config.backlog)  # pragma: no cover - forked workers only
    server.run(sockets=[sock])  # pragma: no cover - forked workers only


def _supervise(children: list[int]) -> int:
    """Wait for the workers; pass SIGINT/SIGTERM on; stop all when one dies. The exit status."""
    alive = set(children)
    stopping = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        while alive:
            pid, wait_status = os.wait()
            alive.discard(pid)
            code = os.waitstatus_to_exitcode(wait_status)
            if not stopping:
                log.error("worker process exited; stopping the others", pid=pid, status=code)
                status = 1
                forward(signal.SIGTERM, None)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status
