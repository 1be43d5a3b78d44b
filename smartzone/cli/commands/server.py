"""`smartzone server`: the HTTP API and the staff web console."""

from pathlib import Path

import click


@click.command("server")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Server settings TOML (default: configs/server.toml when present).")
@click.option("--db", "db_url", help="SQLAlchemy URL, e.g. sqlite:///var/smartzone.db or "
                                     "postgresql://user@host/db (env SZ_DB).")
@click.option("--host", help="Address to listen on (default 127.0.0.1; 0.0.0.0 for the branch LAN).")
@click.option("--port", type=click.IntRange(0, 65535), help="TCP port (default 8000; 0 picks a free one).")
@click.option("--role", type=click.Choice(["all", "edge", "central"]), default=None,
              help="Which pages, API and jobs to serve: all (default), edge (one branch's queue and consoles) "
                   "or central (CRM, fleet, KPIs across branches) (env SZ_ROLE).")
@click.option("--dev", is_flag=True, help="Development only: accept the repository's development keys "
                                          "(SZ_IDENTITY_KEY, SZ_TEMPLATE_KEYS, SZ_WEBHOOK_SECRET unset).")
def server_command(config_file: Path | None, db_url: str | None, host: str | None, port: int | None,
                   role: str | None, dev: bool) -> None:
    """Serve the HTTP API (/docs), the staff console (/) and /healthz, /readyz, /metrics.

    Migrates the database to the latest schema and mirrors the branch configs first, and runs
    the scheduled jobs (one server at a time per database). Refuses to start with the
    repository's development keys unless --dev is given. Create a first account with
    `smartzone admin create-user`. Runs until SIGTERM or Ctrl-C.
    """
    from server.app import create_app
    from server.runner import ServerThread
    from smartzone.cli.compose import fail, load_branch_configs, open_database, stop_on_signals
    from szconfig import ConfigError, default_config_dir, load_server_settings
    from szconfig.secrets import DevSecretError, check_server_secrets

    if config_file is None:
        candidate = default_config_dir() / "server.toml"
        config_file = candidate if candidate.exists() else None
    try:
        settings = load_server_settings(config_file, db=db_url, host=host, port=port, role=role)
        check_server_secrets(settings, dev=dev)
    except (ConfigError, DevSecretError) as err:
        fail(str(err))
    branches = load_branch_configs(_resolve(settings.branches_dir))
    engine, _factory = open_database(settings.db, branches)
    app = create_app(settings, engine=engine)
    stop = stop_on_signals()
    try:
        srv = ServerThread(app, settings.host, settings.port).start()
    except RuntimeError as err:
        engine.dispose()
        fail(f"cannot serve on {settings.host}:{settings.port}: {err}")
    click.echo(f"server: console {srv.url}/  API docs {srv.url}/docs  ({settings.db}); Ctrl-C to stop",
               err=True)
    try:
        stop.wait()
    finally:
        srv.stop()
        engine.dispose()
    click.echo("server stopped", err=True)


def _resolve(path: Path) -> Path:
    from szconfig import default_config_dir

    if path.exists() or path.is_absolute():
        return path
    return default_config_dir().parent / path


def register(cli: click.Group) -> None:
    cli.add_command(server_command)
