"""Migrations: head equals the models exactly, and everything downgrades to an empty database."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from marketplace.cli import alembic_config
from marketplace.db import make_engine
from marketplace.models import include_object, metadata
from tests.database import fresh_database


def test_upgrade_to_head_gives_the_models_schema_and_downgrade_empties_it() -> None:
    with fresh_database("migrations") as url:
        engine = make_engine(url)
        config = alembic_config(url)
        try:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            with engine.connect() as connection:
                context = MigrationContext.configure(
                    connection,
                    opts={
                        "compare_type": True,
                        "compare_server_default": True,
                        "include_object": include_object,
                    },
                )
                assert compare_metadata(context, metadata) == []
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, "base")
            tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
            assert tables == set()
        finally:
            engine.dispose()
