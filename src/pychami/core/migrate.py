"""Schema migrations: Alembic with one branch per service, always upgraded to all heads."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from pychami.core.db import Database

CORE_VERSIONS = Path(__file__).parent / "migrations" / "versions"


def alembic_config(db: Database, version_dirs: Sequence[Path]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    locations = [str(CORE_VERSIONS), *(str(p) for p in version_dirs)]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["database"] = db
    return cfg


def upgrade(db: Database, version_dirs: Sequence[Path]) -> None:
    """Bring the schema to the newest revision of every service branch."""
    command.upgrade(alembic_config(db, version_dirs), "heads")


def heads(db: Database, version_dirs: Sequence[Path]) -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(db, version_dirs)).get_heads())


def current(db: Database, version_dirs: Sequence[Path]) -> set[str]:
    """Revisions the database is at (empty for a new database)."""
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    del version_dirs
    with db.read() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
