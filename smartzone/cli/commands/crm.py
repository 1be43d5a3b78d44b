"""`smartzone crm import`: load customers from CSV; only keyed hashes and masked forms are stored."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click


@click.group("crm")
def crm_group() -> None:
    """Customer data: import customers (clear numbers in, keyed hashes and masks stored)."""


@crm_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", "db_url", default="sqlite:///var/smartzone.db", show_default=True, help="SQLAlchemy URL.")
@click.option("--branch", default="b001", show_default=True,
              help="Home branch of rows without a `branch` column (decides who may see them).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def import_command(file: Path, db_url: str, branch: str, as_json: bool) -> None:
    """Import FILE.csv with columns customer_id,name,phone,id_number,card_number,tier,aum_band,language,birth_date.

    Rows that fail validation are written with their reason to FILE.rejected.csv (clear numbers in
    that file are masked). Importing the same file again updates the customers, it does not duplicate them.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from server.customers.config import crm
    from server.customers.importer import COLUMNS, RowError, parse_row
    from server.customers.privacy import scrub
    from server.customers.service import upsert_customer
    from server.db import utcnow
    from server.errors import DomainError
    from smartzone.cli.compose import fail, load_branch_configs, open_database
    from szconfig import default_config_dir

    branches = load_branch_configs(default_config_dir() / "branches")
    _engine, factory = open_database(db_url, branches)
    cfg = crm()
    keys = sorted(cfg.identity_keys())
    with file.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if rows and not set(COLUMNS) <= set(rows[0]):
        fail(f"{file}: missing columns {sorted(set(COLUMNS) - set(rows[0]))}; expected {','.join(COLUMNS)}")
    rejected: list[dict[str, str]] = []
    created = updated = 0
    seen: set[str] = set()
    now = utcnow()
    with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  disable=as_json, transient=False) as progress:
        task = progress.add_task("import", total=len(rows))
        for start in range(0, len(rows), 200):
            with factory() as s, s.begin():
                for line, row in enumerate(rows[start:start + 200], start=start + 2):
                    try:
                        b = (row.get("branch") or branch).strip()
                        if b not in branches:
                            raise RowError(f"branch: {b!r} is not configured")
                        cid = (row.get("customer_id") or "").strip()
                        if cid in seen:
                            raise RowError("customer_id: repeated in this file")
                        parsed = parse_row(row, keys, cfg.identity_key(None))
                        with s.begin_nested():
                            _c, new = upsert_customer(s, parsed, branch_id=b, now=now)
                        seen.add(cid)
                        created, updated = created + new, updated + (not new)
                    except DomainError as err:  # RowError, or an identity of another customer
                        rejected.append({"line": str(line), "customer_id": scrub(row.get("customer_id") or ""),
                                         "reason": str(err)})
                    progress.advance(task)
    out = file.with_name(file.stem + ".rejected.csv")
    if rejected:
        with out.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["line", "customer_id", "reason"])
            w.writeheader()
            w.writerows(rejected)
    summary = {"rows": len(rows), "created": created, "updated": updated, "rejected": len(rejected),
               "rejected_file": str(out) if rejected else None}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"{len(rows)} rows: {created} created, {updated} updated, {len(rejected)} rejected"
                   + (f" (see {out})" if rejected else ""))


def register(cli: click.Group) -> None:
    cli.add_command(crm_group)
