"""`smartzone protocol …`: the wire contract."""

import json

import click


@click.group("protocol")
def protocol_group() -> None:
    """The MQTT wire contract between devices and the hub."""


@protocol_group.command("schema")
def schema() -> None:
    """Print the JSON Schema of every message devices send and receive."""
    from wire import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


def register(cli: click.Group) -> None:
    cli.add_command(protocol_group)
