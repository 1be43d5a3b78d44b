"""`smartzone hw …` and `smartzone face …`: drive real or simulated peripherals from the shell."""

from __future__ import annotations

import json
import sys
import time

import click

KEY_HELP = "Branch key for the keyed hash (env SZ_BRANCH_KEY; a fixed development key if unset)."
DEV_KEY = "smartzone-development-key"


def _key(key: str | None) -> str:
    if key:
        return key
    click.echo("warning: SZ_BRANCH_KEY not set; using the development key", err=True)
    return DEV_KEY


port_option = click.option("--port", required=True,
                           help="Serial port or pyserial URL: /dev/ttyUSB0, /dev/pts/3, socket://host:4001.")
baud_option = click.option("--baud", type=int, default=9600, show_default=True, help="Baud rate.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def _emit(data: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        for key, value in data.items():
            click.echo(f"{key:>14}: {value}")


@click.group("hw")
def hw_group() -> None:
    """Talk to a card reader, ID reader or receipt printer (real, or `smartzone sim …`)."""


@hw_group.command("printer-status")
@port_option
@baud_option
@json_option
@click.option("--timeout", type=float, default=0.5, show_default=True, help="Seconds to wait per query.")
def printer_status(port: str, baud: int, as_json: bool, timeout: float) -> None:
    """Query the printer's device, paper and cover state (DLE EOT). Exit 1 unless it can print."""
    from hardware.common.status import DeviceState, PaperState
    from hardware.printer import PrinterDriver
    from hardware.transport import open_transport

    driver = PrinterDriver(open_transport(port, baudrate=baud), status_timeout=timeout)
    status = driver.status()
    driver.close()
    _emit(status.to_dict(), as_json)
    ready = status.device is DeviceState.ONLINE and status.paper in (PaperState.FULL, PaperState.LOW)
    sys.exit(0 if ready else 1)


@hw_group.command("print-test")
@port_option
@baud_option
@click.option("--timeout", type=float, default=0.5, show_default=True, help="Seconds to wait per query.")
def print_test(port: str, baud: int, timeout: float) -> None:
    """Print a short bilingual test receipt; fails with the reason (paper out, cover open …)."""
    from hardware.common.errors import HardwareError
    from hardware.printer import PrinterDriver
    from hardware.transport import open_transport

    driver = PrinterDriver(open_transport(port, baudrate=baud), status_timeout=timeout)
    try:
        status = driver.print_test()
    except HardwareError as err:
        raise click.ClickException(f"{err} (device {err.state})") from err
    finally:
        driver.close()
    click.echo(f"printed; paper {status.paper}")


@hw_group.command("print-ticket")
@port_option
@baud_option
@click.option("--number", default="A001", show_default=True, help="Ticket number.")
@click.option("--branch", default="智慧银行 示范支行", show_default=True, help="Branch name.")
@click.option("--business", default="个人业务 Personal banking", show_default=True, help="Business type.")
@click.option("--ahead", type=int, default=3, show_default=True, help="People ahead.")
@click.option("--wait", "wait_minutes", type=int, default=9, show_default=True, help="Estimated wait, minutes.")
@click.option("--url", default=None, help="Status page URL [default: https://smartzone.local/t/NUMBER].")
def print_ticket(port: str, baud: int, number: str, branch: str, business: str, ahead: int, wait_minutes: int,
                 url: str | None) -> None:
    """Print a queue ticket as the kiosk does."""
    from datetime import datetime

    from hardware.common.errors import HardwareError
    from hardware.printer import PrinterDriver, TicketReceipt
    from hardware.transport import open_transport

    driver = PrinterDriver(open_transport(port, baudrate=baud))
    ticket = TicketReceipt(branch_name=branch, ticket_number=number, business_type=business,
                           people_ahead=ahead, estimated_wait_min=wait_minutes, issued_at=datetime.now(),
                           status_url=url or f"https://smartzone.local/t/{number}")
    try:
        driver.print_ticket(ticket)
    except HardwareError as err:
        raise click.ClickException(f"{err} (device {err.state})") from err
    finally:
        driver.close()
    click.echo(f"printed ticket {number}")


@hw_group.command("card-status")
@port_option
@baud_option
@json_option
@click.option("--timeout", type=float, default=2.0, show_default=True, help="Seconds to wait for a reply.")
def card_status(port: str, baud: int, as_json: bool, timeout: float) -> None:
    """The card reader's XFS4IoT-style status: device, media, retain bin. Exit 1 unless online."""
    from hardware.card_reader import CardReaderDriver
    from hardware.common.status import DeviceState
    from hardware.transport import open_transport

    driver = CardReaderDriver(open_transport(port, baudrate=baud), ack_timeout=min(timeout, 0.5),
                              reply_timeout=timeout)
    status = driver.status()
    driver.close()
    _emit(status.to_dict(), as_json)
    sys.exit(0 if status.device is DeviceState.ONLINE else 1)


@hw_group.command("card-read")
@port_option
@baud_option
@json_option
@click.option("--key", envvar="SZ_BRANCH_KEY", help=KEY_HELP)
@click.option("--wait", "wait_s", type=float, default=0.0, show_default=True,
              help="Seconds to wait for a card to be inserted (entry is enabled meanwhile).")
@click.option("--then", "then", type=click.Choice(["eject", "retain", "keep"]), default="eject",
              show_default=True, help="What to do with the card after reading.")
def card_read(port: str, baud: int, as_json: bool, key: str | None, wait_s: float, then: str) -> None:
    """Read the card inside: prints the masked number and keyed hash, never the clear number."""
    from hardware.card_reader import CardReaderDriver
    from hardware.common.errors import HardwareError
    from hardware.common.status import MediaState
    from hardware.transport import open_transport

    driver = CardReaderDriver(open_transport(port, baudrate=baud))
    try:
        driver.enable_entry()
        deadline = time.monotonic() + wait_s
        while driver.status().media is not MediaState.PRESENT and time.monotonic() < deadline:
            time.sleep(0.2)
        card = driver.read_card()
        if then == "eject":
            driver.eject()
        elif then == "retain":
            driver.retain()
        driver.disable_entry()
    except HardwareError as err:
        raise click.ClickException(f"{err} (device {err.state})") from err
    finally:
        driver.close()
    _emit(card.public(_key(key)), as_json)


@hw_group.command("id-read")
@port_option
@baud_option
@json_option
@click.option("--key", envvar="SZ_BRANCH_KEY", help=KEY_HELP)
def id_read(port: str, baud: int, as_json: bool, key: str | None) -> None:
    """Read the resident ID card on the reader: masked number and name, keyed hash, validity."""
    from hardware.common.errors import HardwareError
    from hardware.id_reader import IdReaderDriver
    from hardware.transport import open_transport

    driver = IdReaderDriver(open_transport(port, baudrate=baud))
    try:
        identity = driver.read_identity()
    except HardwareError as err:
        raise click.ClickException(f"{err} (device {err.state})") from err
    finally:
        driver.close()
    _emit(identity.public(_key(key)), as_json)


@click.group("face")
def face_group() -> None:
    """The face pipeline: detection, quality gates, 128-D embeddings (needs the `face` extra)."""


@face_group.command("embed")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@json_option
@click.option("--upscale", type=float, default=1.0, show_default=True,
              help="Scale images up before detection (small crops such as ORL need ~3).")
def face_embed(files: tuple[str, ...], as_json: bool, upscale: float) -> None:
    """One line per FILE: its 128-D embedding, or the reason there is none (no_face, low_quality …)."""
    from hardware.face import FacePipeline

    if not FacePipeline.available():
        raise click.ClickException(FacePipeline.unavailable_reason())
    pipeline = FacePipeline()
    for path in files:
        result = pipeline.embed_file(path, upscale=upscale)
        if isinstance(result, list):
            line: dict = {"file": path, "embedding": [round(v, 6) for v in result]}
        else:
            line = {"file": path, "error": str(result)}
        if as_json:
            click.echo(json.dumps(line))
        else:
            click.echo(f"{path}: {line.get('error') or 'ok (128-D embedding)'}")


def register(cli: click.Group) -> None:
    cli.add_command(hw_group)
    cli.add_command(face_group)
