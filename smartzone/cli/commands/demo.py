"""`smartzone demo`: everything at once, on embedded defaults."""

import json
import os
import shlex
import sys
import time
from pathlib import Path

import click


@click.command("demo")
@click.option("--headless", is_flag=True, help="No live screen; plain progress lines (CI, servers).")
@click.option("--seconds", type=click.FloatRange(1), default=None, help="Stop after this long (default: Ctrl-C).")
@click.option("--json", "as_json", is_flag=True, help="Print only the summary as JSON on stdout.")
@click.option("--broker", default="embedded", show_default=True, help="mqtt://host:port, or `embedded`.")
@click.option("--db", "db_url", default=None, help="SQLAlchemy URL  [default: sqlite:///<var>/smartzone.db]")
@click.option("--rate", type=click.FloatRange(0.1), default=2.0, show_default=True,
              help="Events per second per simulated kiosk.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port of the staff console (0: any free port).")
@click.option("--var", "var_dir", type=click.Path(path_type=Path), default=Path("var"), show_default=True,
              help="Where everything the demo writes lives: the embedded broker, its accounts, the SQLite file, "
                   "and the state of the kiosk it tells you to start.")
@click.option("--topology", type=click.Choice(["single", "edge"]), default="single", show_default=True,
              help="single: one broker, hub and database for everything; edge: a centre and two branch edges "
                   "(b001, b002), each with its own broker and database, bridged, so you can pull a branch's plug.")
@click.option("--outage", metavar="BRANCH:AT:FOR", default=None,
              help="With --topology edge: pull BRANCH's plug AT seconds in, for FOR seconds (e.g. b001:10:20).")
@click.option("--real-hours", is_flag=True,
              help="Keep the branch files' opening hours and holidays (kiosks refuse tickets outside them). "
                   "Default: the demo's branches are open around the clock, so it is useful at any hour.")
def demo_command(headless: bool, seconds: float | None, as_json: bool, broker: str, db_url: str | None, rate: float,
                 port: int, var_dir: Path, topology: str, outage: str | None, real_hours: bool) -> None:
    """Run the whole smart service zone: broker, hub, database, staff console and simulated kiosks.

    Kiosks in branch b001 (three) and b002 (one) send realistic customer traffic; a few
    deliberately broken messages show dead-lettering. On Ctrl-C (or after --seconds) the kiosks
    say goodbye, the hub stores what is left, and a summary says what was published, stored,
    suppressed as duplicate, dead-lettered and lost.
    """
    from smartzone.cli.compose import broker as open_broker
    from smartzone.cli.compose import load_branch_configs, open_database, stop_on_signals
    from smartzone.demo import Demo, DemoPlan, snapshot
    from szconfig import default_config_dir

    def say(msg: str) -> None:
        click.echo(msg, err=as_json)

    branches = load_branch_configs(default_config_dir() / "branches")
    var_dir = var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{var_dir / 'smartzone.db'}"
    if not real_hours:
        import os

        from szconfig.calendar import around_the_clock

        os.environ["SZ_AROUND_THE_CLOCK"] = "1"  # processes the demo starts load their branches the same way
        branches = {b: around_the_clock(cfg) for b, cfg in branches.items()}
    say("hours: the branch files' opening hours and holidays (--real-hours)" if real_hours else
        "hours: branches open around the clock (00:00-24:00, no holidays); --real-hours keeps the files' hours")
    if topology == "edge":
        _run_topology(branches, var_dir, rate, port, seconds, outage, as_json, say)
        return
    _engine, factory = open_database(db_url, branches)
    stop = stop_on_signals()
    plan = DemoPlan(kiosks={"b001": 3, "b002": 1}, rate=rate,
                    businesses={b: [t.code for t in cfg.business_types] for b, cfg in branches.items()})
    from server import scheduler

    credentials = _provision(var_dir, plan) if broker == "embedded" else None
    with open_broker(broker, var_dir) as url:
        web = _start_console(db_url, _engine, branches, port, say)
        jobs = scheduler.start(factory)  # leased: one process runs them, even beside `smartzone server`s
        demo = Demo(url, factory, plan, credentials)
        demo.start()
        say(f"demo running: broker {url}, database {db_url}"
            + (f" (for {seconds:g} s)" if seconds else "; Ctrl-C to stop"))
        say("try, in another terminal:")
        kiosk_config = (default_config_dir() / "kiosk" / "b001-k4.toml").resolve()  # runs from any folder
        qr_base = f" --ticket-page-base {web.url}" if web else ""  # the QR codes open this console's /t/<token>
        say("  " + _command_line(credentials, ("b001", "k4"),
                                 f"kiosk --config {shlex.quote(str(kiosk_config))} --broker {url.address}"
                                 f" --var {shlex.quote(str(var_dir / 'kiosk-b001-k4'))}{qr_base} --windowed --dev"
                                 + ("" if real_hours else " --around-the-clock")))
        say("  " + _command_line(credentials, ("b001", "lobby1"),
                                 f"display --branch b001 --username b001.lobby1 --broker {url.address} --windowed"))
        started = time.monotonic()
        try:
            if headless or as_json:
                _plain_progress(demo, stop, started, seconds, say)
            else:
                _live_progress(demo, stop, started, seconds, factory, snapshot)
        finally:
            summary = demo.stop()
            jobs.stop()
            if web:
                web.stop()
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    else:
        _print_summary(summary)
    if summary.lost:
        raise SystemExit(1)


def _parse_outage(outage: str | None) -> tuple[str, float, float] | None:
    from smartzone.cli.compose import fail

    if not outage:
        return None
    try:
        branch, at, length = outage.split(":")
        return branch, float(at), float(length)
    except ValueError:
        fail(f"--outage {outage!r}: expected BRANCH:AT:FOR in seconds, e.g. b001:10:20")
    return None


def _run_topology(branches, var_dir: Path, rate: float, port: int, seconds: float | None, outage: str | None,
                  as_json: bool, say) -> None:
    """`--topology edge`: a centre and two edges, their consoles, a plug per branch (smartzone/demo_topology.py)."""
    from server.db import session_factory, utcnow
    from server.link.push import push_down
    from server.staff.service import create_demo_users
    from smartzone.cli.compose import fail, open_database, stop_on_signals
    from smartzone.demo_topology import KIOSKS, Topology

    cut = _parse_outage(outage)
    if cut and cut[0] not in KIOSKS:
        fail(f"--outage: branch {cut[0]!r} is not one of the demo's edges ({', '.join(KIOSKS)})")
    var = var_dir / "topology"
    topo = Topology(var, open_database, branches, rate=rate)
    stop = stop_on_signals()
    topo.start()
    consoles = []
    try:
        logins = {}
        # the edges' demo accounts first: the centre's, pushed down next, replace the branch-scoped ones (staff sign
        # in at their branch with their head-office password); an edge's admin (all branches) stays its own
        for role, engine_url, ids, p in (*(("edge", e.db_url, [b], 0) for b, e in topo.edges.items()),
                                         ("central", topo.centre_db, sorted(branches), port)):
            engine, _f = open_database(engine_url, None, migrate=False)
            with session_factory(engine)() as s, s.begin():
                logins[engine_url] = create_demo_users(s, ids)
            consoles.append((role, ids, _console_for(role, engine_url, engine, p, say), engine, engine_url))
        push_down(topo.centre_factory, utcnow())
        central = {u: pw for u, _r, pw in logins[topo.centre_db]}
        for role, ids, web, _engine, engine_url in consoles:
            if web:
                users = [(u, r, pw if r == "admin" or role == "central" else central[u])
                         for u, r, pw in logins[engine_url]]
                say(f"{role} console{' of ' + ids[0] if role == 'edge' else ''}: {web.url}/  logins: "
                    + ", ".join(f"{u} {pw}" for u, r, pw in users if r in ("lobby_staff", "admin")))
        say(f"pull a branch's plug: touch {var}/unplug-b001 (rm to put it back); Ctrl-C to stop")
        started = time.monotonic()
        next_line = next_push = started
        while not stop.is_set() and not (seconds and time.monotonic() - started >= seconds):
            t = time.monotonic() - started
            if time.monotonic() >= next_push:  # the centre's push-down job (the demo's consoles run no jobs)
                push_down(topo.centre_factory, utcnow())
                next_push = time.monotonic() + 15
            if cut:
                (var / f"unplug-{cut[0]}").touch() if cut[1] <= t < cut[1] + cut[2] else \
                    (var / f"unplug-{cut[0]}").unlink(missing_ok=True)
            topo.follow_plugs()
            if time.monotonic() >= next_line:
                say(f"  {t:5.0f} s  " + "  |  ".join(
                    f"{s['branch']} link {s['link']:<4} published {s['published']:>5} edge {s['at_edge']:>5} "
                    f"waiting {s['backlog']:>5} centre {s['at_centre']:>5}" for s in topo.status()))
                next_line = time.monotonic() + 2
            stop.wait(0.2)
    finally:
        if cut:
            (var / f"unplug-{cut[0]}").unlink(missing_ok=True)
        summary = topo.stop()
        for _role, _ids, web, engine, _url in consoles:
            if web:
                web.stop()
            engine.dispose()
    if as_json:
        click.echo(json.dumps(summary))
    else:
        for b, row in summary.items():
            say(f"{b}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in row.items()))
    if any(row["lost"] or row["not_at_centre"] for row in summary.values()):
        raise SystemExit(1)


def _console_for(role: str, db_url: str, engine, port: int, say):
    """A console of one role on its own thread (no jobs: the topology demo keeps it simple)."""
    from server.app import create_app
    from server.runner import ServerThread
    from szconfig import ServerSettings
    from szconfig.secrets import check_server_secrets

    settings = ServerSettings(role=role, db=db_url, port=port, jobs=False)
    check_server_secrets(settings, dev=True, what="the demo")
    try:
        return ServerThread(create_app(settings, engine=engine), "127.0.0.1", port).start()
    except RuntimeError as err:
        say(f"{role} console not started: {err}; try --port 0")
        return None


def _provision(var_dir: Path, plan) -> dict[tuple[str, str], tuple[str, str]]:
    """Accounts of the demo's devices in the embedded broker's store; new secrets at every start."""
    from device_hub.trust.store import AccountStoreError
    from smartzone.cli.compose import embedded_accounts, fail
    from smartzone.demo import demo_accounts

    accounts = demo_accounts(plan.kiosks)
    try:
        secrets = embedded_accounts(var_dir).provision(accounts)
    except AccountStoreError as err:
        fail(str(err))
    return {(a.branch, a.device): (a.username, secrets[a.username]) for a in accounts}


def smartzone_command() -> str:
    """How to run this smartzone from any folder: the venv's own script by its full path, else `python -m`."""
    script = Path(sys.executable).parent / "smartzone"
    if script.is_file() and os.access(script, os.X_OK):
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m smartzone.cli.main"


def _command_line(credentials, device: tuple[str, str], args: str) -> str:
    """A command to paste, as printed: the device's secret in the environment, never in the URL or a file."""
    if not credentials or device not in credentials:
        return f"{smartzone_command()} {args}"
    return f"SZ_MQTT_PASSWORD={shlex.quote(credentials[device][1])} {smartzone_command()} {args}"


def _start_console(db_url, engine, branches, port, say):
    """The staff console on its own thread, with one demo login per role."""
    from server.app import create_app
    from server.runner import ServerThread
    from server.staff.service import create_demo_users
    from szconfig import ServerSettings
    from szconfig.secrets import check_server_secrets

    with _session(engine) as s, s.begin():
        users = create_demo_users(s, sorted(branches))
    settings = ServerSettings(db=db_url, port=port, jobs=False)  # the demo runs the jobs itself
    check_server_secrets(settings, dev=True, what="the demo")  # the demo is development: the repository's keys
    app = create_app(settings, engine=engine)
    try:
        web = ServerThread(app, "127.0.0.1", port).start()
    except RuntimeError as err:
        say(f"staff console not started: {err}; try --port 0")
        return None
    say(f"staff console: {web.url}/  (API docs: {web.url}/docs)")
    say("one-time logins (change the password after the first sign-in):")
    for username, role, password in users:
        say(f"  {role:<17} {username:<26} {password}")
    return web


def _session(engine):
    from server.db import session_factory

    return session_factory(engine)()


def _plain_progress(demo, stop, started, seconds, say) -> None:
    next_line = started
    while not stop.is_set():
        now = time.monotonic()
        if seconds and now - started >= seconds:
            return
        if now >= next_line:
            c = demo.hub.counters
            waiting = "  ".join(f"{b} {n}" for b, n in demo.waiting().items())
            say(f"  {now - started:5.0f} s  published {demo.published_so_far():>7}  stored {c.stored:>7}  "
                f"dead-lettered {c.dead_lettered}  waiting {waiting}")
            next_line = now + 5
        stop.wait(0.2)


def _live_progress(demo, stop, started, seconds, factory, snapshot) -> None:
    from rich.live import Live
    from rich.table import Table

    def render() -> Table:
        c = demo.hub.counters
        db = snapshot(factory)
        t = Table(title=f"smartzone demo — {time.monotonic() - started:.0f} s (Ctrl-C to stop)")
        t.add_column("what")
        t.add_column("count", justify="right")
        for label, value in [("events published by kiosks", demo.published_so_far()),
                             ("events stored", c.stored), ("duplicates suppressed", c.duplicates),
                             ("dead letters", c.dead_lettered), ("heartbeats", c.heartbeats),
                             ("devices online", db["devices_online"]), ("visits", db["visits"]),
                             ("touchpoints", db["touchpoints"]), ("replies waiting", db["outbox_unsent"]),
                             *((f"tickets waiting in {b}", n) for b, n in demo.waiting().items())]:
            t.add_row(label, f"{value:,}")
        return t

    with Live(render(), refresh_per_second=2) as live:
        while not stop.is_set() and not (seconds and time.monotonic() - started >= seconds):
            stop.wait(0.5)
            live.update(render())


def _print_summary(summary) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="demo summary")
    t.add_column("what")
    t.add_column("count", justify="right")
    for k, v in summary.as_dict().items():
        t.add_row(k.replace("_", " "), f"{v:,}", style="bold red" if k == "lost" and v else None)
    Console().print(t)


def register(cli: click.Group) -> None:
    cli.add_command(demo_command)
