"""Keep the branches table in step with the configured branches."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.branches.models import Branch
from server.db import insert_for, utcnow


def sync_branches(session: Session, configs: Mapping[str, Any]) -> int:
    """Upsert every configured branch (pydantic BranchConfig or dict); returns how many."""
    rows = []
    for branch_id, cfg in configs.items():
        data = cfg.model_dump(mode="json") if hasattr(cfg, "model_dump") else dict(cfg)
        rows.append({
            "id": branch_id, "name_zh": data["name"]["zh"], "name_en": data["name"]["en"],
            "kind": data["kind"], "timezone": data.get("timezone", "Asia/Shanghai"),
            "config": data, "updated_at": utcnow(),
        })
    if not rows:
        return 0
    stmt = insert_for(session, Branch)
    stmt = stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={c: stmt.excluded[c] for c in ("name_zh", "name_en", "kind", "timezone", "config",
                                            "updated_at")},
    )
    session.connection().execute(stmt, rows)
    return len(rows)


def branch_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Branch.id)))
