"""`smartzone sim card-reader|id-reader|printer|camera|control`: serial peripherals on pseudo-terminals."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click

CONTROL_HELP = "send one command per line to the control socket, e.g. `smartzone sim control {sock} 'jam'`"


def _serve(sim, *, as_json: bool, extra: dict | None = None) -> None:  # type: ignore[no-untyped-def]
    """Start a simulator and its control socket, print where they are, run until Ctrl-C or SIGTERM."""
    from hardware.common.simulator import ControlServer, run_control

    sim.start()
    control = ControlServer(sim, Path(sim.port.link).with_name("control.sock")).start()
    info = {"port": sim.port.name, "pty": sim.port.pty_name, "control": control.address,
            "commands": sim.help(), **(extra or {})}
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False), nl=True)
    else:
        click.echo(f"{sim.kind} simulator ready")
        click.echo(f"  port:     {info['port']}  (-> {info['pty']}; the link survives unplug/replug)")
        click.echo(f"  control:  {control.address}")
        click.echo(f"            {CONTROL_HELP.format(sock=control.address)}, or type it here")
        click.echo(f"  commands: {info['commands']}")
        for key, value in (extra or {}).items():
            click.echo(f"  {key}: {value}")
    sys.stdout.flush()

    stop = threading.Event()

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip():
                click.echo(json.dumps(run_control(sim, line), ensure_ascii=False))
                sys.stdout.flush()

    threading.Thread(target=read_stdin, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        control.stop()
        sim.stop()


def _port(link: str | None):  # type: ignore[no-untyped-def]
    from hardware.transport.pty import PtyPort

    return PtyPort(link)


json_option = click.option("--json", "as_json", is_flag=True,
                           help='Print one JSON line {"port", "pty", "control", "commands"} and run.')
link_option = click.option("--link", type=click.Path(dir_okay=False),
                           help="Path of the stable symlink to the pty (default: a new temp dir).")
seed_option = click.option("--seed", type=int, default=None, help="Seed for line noise (repeatable runs).")


@click.command("card-reader")
@json_option
@link_option
@seed_option
def card_reader(as_json: bool, link: str | None, seed: int | None) -> None:
    """A motorised bank-card reader on a pseudo-terminal.

    Point `smartzone hw card-status --port PORT` (or the kiosk) at the printed port. Control
    commands: insert bank|chip|magstripe|unreadable, take, jam, clear, bin N, fail, repair,
    slow S, hang on|off, noise N, corrupt N, truncate N, nak N, unplug, replug, status.
    """
    from hardware.card_reader.simulator import CardReaderSimulator

    _serve(CardReaderSimulator(_port(link), seed=seed), as_json=as_json)


@click.command("id-reader")
@json_option
@link_option
@seed_option
def id_reader(as_json: bool, link: str | None, seed: int | None) -> None:
    """A resident ID card reader on a pseudo-terminal.

    Control commands: insert id|long|expired|unreadable, take, fail, repair, and the common
    faults (slow S, hang on|off, noise N, corrupt N, truncate N, nak N, unplug, replug).
    """
    from hardware.id_reader.simulator import IdReaderSimulator

    _serve(IdReaderSimulator(_port(link), seed=seed), as_json=as_json)


@click.command("printer")
@json_option
@link_option
@seed_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Write each receipt received as DIR/<n>.txt and DIR/<n>.png.")
@click.option("--no-png", is_flag=True, help="With --out, write only the .txt files.")
def printer(as_json: bool, link: str | None, seed: int | None, out_dir: str | None, no_png: bool) -> None:
    """An ESC/POS receipt printer on a pseudo-terminal that decodes what it prints.

    Control commands: paper full|low|out, cover open|close, jam, clear, slow S, hang on|off,
    noise N, unplug, replug, status.
    """
    from hardware.printer.simulator import PrinterSimulator

    extra = {"out": str(Path(out_dir).resolve())} if out_dir else {}
    _serve(PrinterSimulator(_port(link), out_dir=out_dir, png=not no_png, seed=seed), as_json=as_json,
           extra=extra)


@click.command("camera")
@click.option("--json", "as_json", is_flag=True, help='Print one JSON line {"source", "control"} and run.')
@click.option("--faces", type=click.Path(exists=True, file_okay=False),
              help="A folder of face images to show (default: synthetic frames).")
@click.option("--fps", type=float, default=10.0, show_default=True, help="Frames per second.")
def camera(as_json: bool, faces: str | None, fps: float) -> None:
    """A camera as an MJPEG video file that the camera worker opens like a device.

    Control commands: unplug (the source vanishes), replug, freeze on|off, status.
    """
    from hardware.camera.simulator import CameraSimulator

    sim = CameraSimulator(faces=faces, fps=fps)
    _serve_camera(sim, as_json)


def _serve_camera(sim, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    from hardware.common.simulator import ControlServer

    sim.start()
    control = ControlServer(sim, sim.directory / "control.sock").start()
    info = {"source": str(sim.source), "control": control.address, "commands": sim.help()}
    click.echo(json.dumps(info) if as_json else
               f"camera simulator ready\n  source:  {info['source']}\n  control: {control.address}")
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        control.stop()
        sim.stop()


@click.command("control")
@click.argument("address")
@click.argument("command", nargs=-1, required=True)
def control(address: str, command: tuple[str, ...]) -> None:
    """Send COMMAND to a running simulator's control socket ADDRESS (`unix:/…/control.sock`).

    Example: smartzone sim control unix:/tmp/smartzone-sim-x/control.sock paper out
    """
    from hardware.common.simulator import send_control

    try:
        answer = send_control(address, " ".join(command))
    except OSError as err:
        raise click.ClickException(f"cannot reach {address}: {err}") from err
    click.echo(json.dumps(answer, ensure_ascii=False))
    if not answer.get("ok", False):
        sys.exit(1)


def register(cli: click.Group) -> None:
    group = cli.commands["sim"]
    assert isinstance(group, click.Group)
    for command in (card_reader, id_reader, printer, camera, control):
        group.add_command(command)
