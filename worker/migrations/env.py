"""Alembic environment: runs against the engine handed over by ``Database.migrate`` or, from the
``alembic`` command line, against POLICYWATCH_DATABASE_URL."""
from __future__ import annotations

import os

from alembic import context

from worker.store.db import make_engine
from worker.store.schema import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(os.environ.get("POLICYWATCH_DATABASE_URL", "sqlite:///data/policywatch.db"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
