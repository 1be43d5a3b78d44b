"""Entry point: `smartzone <command>`; every module in commands/ adds its own commands."""

import importlib
import logging
import pkgutil

import click

from smartzone.cli import commands


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="smartzone")
def cli(verbose: int) -> None:
    """smartzone: a bank branch's smart service zone.

    Kiosks, the device hub, queueing, CRM and the device fleet. Start with
    `smartzone demo`; every command has --help.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
    importlib.import_module(f"{commands.__name__}.{info.name}").register(cli)


if __name__ == "__main__":
    cli()
