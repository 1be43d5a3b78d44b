"""`smartzone sim …`: simulators that behave like real devices."""

import click


@click.group("sim")
def sim_group() -> None:
    """Simulated devices: kiosks on MQTT, and serial peripherals on pseudo-terminals."""


def register(cli: click.Group) -> None:
    cli.add_command(sim_group)
