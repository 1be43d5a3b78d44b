"""`smartzone admin …`: staff accounts from the command line (first admin, password resets)."""

import sys

import click

DB_OPTION = click.option("--db", "db_url", envvar="SZ_DB", default="sqlite:///var/smartzone.db",
                         show_default=True, help="SQLAlchemy URL (env SZ_DB).")


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        from smartzone.cli.compose import fail

        fail("--password-stdin given but standard input had no password line")
    return password


def _open(db_url: str):
    from smartzone.cli.compose import load_branch_configs, open_database
    from szconfig import default_config_dir

    return open_database(db_url, load_branch_configs(default_config_dir() / "branches"))


@click.group("admin")
def admin_group() -> None:
    """Staff accounts: create users, reset passwords."""


@admin_group.command("create-user")
@DB_OPTION
@click.option("--username", required=True, help="Login name (letters, digits, . _ @ -; 2–64 characters).")
@click.option("--role", required=True,
              type=click.Choice(["lobby_staff", "teller", "customer_manager", "branch_manager", "maintenance",
                                 "admin"]), help="What the account may do.")
@click.option("--branch", "branches", multiple=True, metavar="ID",
              help="A branch the account works in; repeat for several.")
@click.option("--all-branches", is_flag=True, help="Every branch (admin role only: head office).")
@click.option("--display-name", default="", help="Name shown in the console.")
@click.option("--locale", type=click.Choice(["zh-CN", "en"]), default="zh-CN", show_default=True)
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of stdin; otherwise a one-time password is "
                   "printed, to be changed at first sign-in.")
def create_user(db_url: str, username: str, role: str, branches: tuple[str, ...], all_branches: bool,
                display_name: str, locale: str, password_stdin: bool) -> None:
    """Create a staff account scoped to one or more branches.

    \b
    Example:
      echo 'a long secret' | smartzone admin create-user --db sqlite:///var/smartzone.db \\
          --username wang --role branch_manager --branch b001 --password-stdin
    """
    import re

    from server.audit.service import SYSTEM, record
    from server.errors import DomainError
    from server.staff.service import create_staff
    from smartzone.cli.compose import fail

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,63}", username):
        fail(f"invalid username {username!r}: use 2–64 letters, digits, '.', '_', '@' or '-'")
    password = _read_password(password_stdin)
    _engine, factory = _open(db_url)
    try:
        with factory() as session, session.begin():
            staff, otp = create_staff(session, username=username, role=role, branch_ids=branches,
                                      all_branches=all_branches, password=password, display_name=display_name,
                                      locale=locale)
            record(session, actor=SYSTEM, actor_name="cli", action="staff.create", object_type="staff",
                   object_id=staff.id, branch_id=staff.branch_ids[0] if staff.branch_ids else None,
                   detail={"username": username, "role": role, "branches": staff.branch_ids, "via": "cli"})
            scope = "all branches" if staff.all_branches else ", ".join(staff.branch_ids)
    except DomainError as err:
        fail(str(err))
    click.echo(f"created {username} ({role}; {scope})")
    if otp:
        click.echo(f"one-time password: {otp}")


@admin_group.command("reset-password")
@DB_OPTION
@click.option("--username", required=True, help="The account to reset.")
@click.option("--password-stdin", is_flag=True,
              help="Read the new password from stdin; otherwise a one-time password is printed.")
def reset_password(db_url: str, username: str, password_stdin: bool) -> None:
    """Set a new password (or print a one-time one), unlock the account and end its sessions."""
    from server.audit.service import SYSTEM, record
    from server.errors import DomainError
    from server.staff.service import get_by_username, set_password
    from smartzone.cli.compose import fail

    password = _read_password(password_stdin)
    _engine, factory = _open(db_url)
    try:
        with factory() as session, session.begin():
            staff = get_by_username(session, username)
            if staff is None:
                fail(f"no staff account named {username!r}")
            otp = set_password(session, staff, password)
            record(session, actor=SYSTEM, actor_name="cli", action="staff.reset_password", object_type="staff",
                   object_id=staff.id, branch_id=staff.branch_ids[0] if staff.branch_ids else None,
                   detail={"via": "cli"})
    except DomainError as err:
        fail(str(err))
    click.echo(f"password of {username} reset; the account is unlocked")
    if otp:
        click.echo(f"one-time password: {otp}")


def register(cli: click.Group) -> None:
    cli.add_command(admin_group)
