"""Configs open around the clock for every test that is not about opening hours.

CI runs at any hour, and kiosks, the hub and the console refuse tickets outside a branch's hours. So the tests
run on a copy of configs/ whose branches are open 00:00-24:00 every day, with no holidays and counters staffed
throughout (`szconfig.calendar.around_the_clock`), and `SZ_CONFIG_DIR` points at it (subprocesses inherit it).
Tests about hours use the real files (`REAL_CONFIGS`) or build their own, and inject `now`.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

REAL_CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def to_toml(data: dict[str, Any]) -> str:
    """A config (JSON-mode dump) as TOML, one `key = inline value` line per top-level key."""
    return "".join(f"{k} = {_value(v)}\n" for k, v in data.items() if v is not None)


def write_open_configs(dst: Path) -> Path:
    """Copy configs/ to `dst` with every branch open around the clock; relative branches_dir made absolute."""
    from szconfig import calendar, load_branches

    shutil.copytree(REAL_CONFIGS, dst, dirs_exist_ok=True)
    for branch_id, cfg in load_branches(REAL_CONFIGS / "branches").items():
        open_cfg = calendar.around_the_clock(cfg)
        (dst / "branches" / f"{branch_id}.toml").write_text(to_toml(open_cfg.model_dump(mode="json")),
                                                            encoding="utf-8")
    for settings in dst.glob("*.toml"):
        text = settings.read_text(encoding="utf-8")
        settings.write_text(text.replace('branches_dir = "configs/branches"',
                                         f'branches_dir = "{dst / "branches"}"'), encoding="utf-8")
    return dst


_ROOT = Path(tempfile.mkdtemp(prefix="sz-open-configs-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
OPEN_CONFIGS = write_open_configs(_ROOT / "configs")
