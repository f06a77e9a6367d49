"""Shared fixtures: databases on both backends, settings, the app, tokens.

Every repository and API test that takes ``db`` runs twice: on SQLite and on a real PostgreSQL that the
harness starts itself (``PYCHAMI_TEST_PG_URL`` points at an existing server instead). Each test gets a
fresh database cloned from a migrated template, so tests are isolated and transactions are real.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pychami.core.db import Database
from pychami.core.settings import Settings, load_settings
from pychami.server import create_app, upgrade_schema
from tests.pgserver import postgres_cluster

_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    """Give the test process (and so every child it starts) a working Ctrl-C.

    A shell that starts CI in the background ignores SIGINT, and an ignored signal stays ignored across
    exec; tests that interrupt builds and daemons with SIGINT need the default behaviour back.
    """
    del config
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """Superuser URL of the session's PostgreSQL (started here unless PYCHAMI_TEST_PG_URL is set)."""
    if os.environ.get("PYCHAMI_TEST_PG_URL"):
        yield os.environ["PYCHAMI_TEST_PG_URL"]
        return
    with postgres_cluster() as url:
        yield url


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> str:
    """Name of a migrated template database that per-test databases are cloned from."""
    name = f"pychami_tpl_{os.getpid()}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database.from_url(_with_db(pg_admin_url, name).replace("postgresql://", "postgresql+psycopg://"))
    upgrade_schema(db)
    db.dispose()
    return name


def _with_db(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-tpl") / "template.db"
    db = Database.from_url(f"sqlite:///{path}")
    upgrade_schema(db)
    db.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, migrated database on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "pychami.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    admin: str = request.getfixturevalue("pg_admin_url")
    tpl: str = request.getfixturevalue("pg_template")
    name = f"pychami_t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{tpl}"')
    yield _with_db(admin, name).replace("postgresql://", "postgresql+psycopg://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.from_url(db_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return load_settings(data_dir=tmp_path / "data", db=db_url)


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, db=db, migrate_schema=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An in-process HTTP client with an admin token."""
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {issue(app, 'admin')}"
        yield c


@pytest.fixture
def anon(app: FastAPI) -> Iterator[TestClient]:
    """An in-process HTTP client without a token."""
    with TestClient(app) as c:
        yield c


def issue(app: FastAPI, *scopes: str, ttl: int = 3600, sub: str = "tester") -> str:
    """A token from the app's own issuer."""
    issuer = app.state.ctx.issuer
    assert issuer is not None
    return str(issuer.issue(sub, scopes, ttl))


@pytest.fixture
def token_for(app: FastAPI) -> Callable[..., str]:
    def make(*scopes: str, ttl: int = 3600) -> str:
        return issue(app, *scopes, ttl=ttl)

    return make


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One image-build cache for the session, so debootstrap runs once for tests/imagebuild and tests/e2e
    (PYCHAMI_TEST_IMAGEBUILD_CACHE keeps it between runs)."""
    keep = os.environ.get("PYCHAMI_TEST_IMAGEBUILD_CACHE")
    return Path(keep) if keep else tmp_path_factory.mktemp("ib-cache")
