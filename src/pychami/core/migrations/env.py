"""Alembic environment: runs on the connection of the Database handed over in the config."""

from __future__ import annotations

from alembic import context

from pychami.core.db import Database, metadata

config = context.config
database: Database = config.attributes["database"]

with database.engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()
