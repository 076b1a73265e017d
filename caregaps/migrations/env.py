"""Alembic environment: runs on the connection that `caregaps.db.migrate` hands over."""

from alembic import context
from sqlmodel import SQLModel

import caregaps.models  # noqa: F401  (registers the tables)

connection = context.config.attributes.get("connection")
if connection is None:
    from caregaps.config import get_settings
    from caregaps.db import make_engine

    connection = make_engine(get_settings().database_url).connect()

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
