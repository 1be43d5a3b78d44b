"""`smartzone stats`: what the database holds."""

import json

import click


@click.command("stats")
@click.option("--db", "db_url", envvar="SZ_DB", default="sqlite:///var/smartzone.db", show_default=True,
              help="SQLAlchemy URL (env SZ_DB).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def stats_command(db_url: str, as_json: bool) -> None:
    """Count events, dead letters, devices, visits and touchpoints."""
    from rich.console import Console
    from rich.table import Table

    from server.events.service import counts, dead_letter_reasons
    from smartzone.cli.compose import open_database

    _engine, factory = open_database(db_url, migrate=False)
    with factory() as session:
        data = counts(session)
        data["dead_letter_reasons"] = dead_letter_reasons(session)
    if as_json:
        click.echo(json.dumps(data))
        return
    table = Table(title=f"smartzone: {db_url}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in data.items():
        if key != "dead_letter_reasons":
            table.add_row(key.replace("_", " "), f"{value:,}")
    for reason, n in data["dead_letter_reasons"].items():
        table.add_row(f"  dead letters: {reason}", f"{n:,}")
    Console().print(table)


def register(cli: click.Group) -> None:
    cli.add_command(stats_command)
