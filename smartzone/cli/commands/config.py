"""`smartzone config …`: check configuration files."""

from pathlib import Path

import click


@click.group("config")
def config_group() -> None:
    """Check configuration files (branches, hub, server, kiosks)."""


@config_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def check(files: tuple[Path, ...]) -> None:
    """Validate FILES; print `ok`, or each problem as `file: key: what is allowed`."""
    from szconfig import check_files

    problems = check_files(files)
    if problems:
        for p in problems:
            click.echo(str(p), err=True)
        raise SystemExit(1)
    click.echo("ok")


def register(cli: click.Group) -> None:
    cli.add_command(config_group)
