"""`smartzone db …`: schema migrations."""

import click

from smartzone.cli.compose import fail


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--db", "db_url", envvar="SZ_DB", default="sqlite:///var/smartzone.db", show_default=True,
              help="SQLAlchemy URL, e.g. postgresql://user@host/db (env SZ_DB).")
@click.option("--revision", default="heads", show_default=True,
              help="Target revision (default: every head).")
def upgrade(db_url: str, revision: str) -> None:
    """Create or upgrade the schema to the latest (or given) revision."""
    from sqlalchemy.exc import SQLAlchemyError

    from server.migrate import upgrade as run_upgrade

    try:
        run_upgrade(db_url, revision)
    except SQLAlchemyError as err:
        fail(f"migration failed on {db_url}: {err}")
    click.echo(f"database at {revision}: {db_url}")


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
