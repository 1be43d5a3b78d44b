"""Load and check TOML configuration with errors that name the file, the key and what is allowed."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from szconfig.branch import BranchConfig
from szconfig.processes import HubSettings, ServerSettings

M = TypeVar("M", bound=BaseModel)

ENV_PREFIX = "SZ_"


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


class ConfigError(Exception):
    """One or more problems in configuration files; str() lists them one per line."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


def default_config_dir() -> Path:
    """`SZ_CONFIG_DIR`, else ./configs, else the configs/ folder of this checkout."""
    if env := os.environ.get(f"{ENV_PREFIX}CONFIG_DIR"):
        return Path(env)
    here = Path("configs")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[1] / "configs"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as err:
        raise ConfigError([ConfigProblem(str(path), "-", "file not found")]) from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([ConfigProblem(str(path), "-", f"not valid TOML: {err}")]) from err


def _secret_fields(model: type[BaseModel] | None) -> set[str]:
    """Fields typed SecretStr (alone, optional or in a dict): their values never appear in a problem."""
    if model is None:
        return set()
    return {name for name, f in model.model_fields.items() if "SecretStr" in str(f.annotation)}


def _problems(path: Path | str, err: ValidationError, model: type[BaseModel] | None = None) -> list[ConfigProblem]:
    out = []
    secret = _secret_fields(model)
    for e in err.errors(include_url=False):
        key = ".".join(str(p) for p in e["loc"]) or "-"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not allowed here; check the spelling against docs/configuration.md)"
        elif e["loc"] and e["loc"][0] in secret:
            msg = f"{msg} (value not shown: it is a secret)"
        elif "input" in e and not isinstance(e["input"], dict | list):
            msg = f"{msg} (got {e['input']!r})"
        out.append(ConfigProblem(str(path), key, msg))
    return out


def validate(model: type[M], data: dict[str, Any], source: Path | str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        secret = _secret_fields(model)
        leaks = any(e["loc"] and e["loc"][0] in secret for e in err.errors(include_url=False))
        raise ConfigError(_problems(source, err, model)) from (None if leaks else err)  # the cause shows inputs


def _env_overrides(model: type[BaseModel]) -> dict[str, str]:
    out = {}
    for name in model.model_fields:
        value = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
        if value is not None:
            out[name] = value
    return out


def _settings_data(model: type[BaseModel], path: Path | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if path is not None and path.exists():
        data = _read_toml(path)
    data.update(_env_overrides(model))
    return data


def load_settings(model: type[M], path: Path | None) -> M:
    """Defaults, then the TOML file (if given and present), then SZ_<FIELD> variables."""
    return validate(model, _settings_data(model, path), path or "environment")


def load_hub_settings(path: Path | None = None, **overrides: Any) -> HubSettings:
    """As load_settings, then the command line's options, checked as a whole (an edge needs a branch, which may
    come from any of them)."""
    data = _settings_data(HubSettings, path)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return validate(HubSettings, data, path or "options")


def load_server_settings(path: Path | None = None, **overrides: Any) -> ServerSettings:
    settings = load_settings(ServerSettings, path)
    return settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})


def load_branch(path: Path) -> BranchConfig:
    branch = validate(BranchConfig, _read_toml(path), path)
    if path.stem != branch.id:
        raise ConfigError([ConfigProblem(str(path), "id", f"must match the file name ({path.stem!r})")])
    return branch


def load_branches(directory: Path) -> dict[str, BranchConfig]:
    """Every `<id>.toml` in the directory; all problems reported together."""
    branches: dict[str, BranchConfig] = {}
    problems: list[ConfigProblem] = []
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ConfigError([ConfigProblem(str(directory), "-", "no branch files (*.toml) found")])
    for path in files:
        try:
            branch = load_branch(path)
        except ConfigError as err:
            problems.extend(err.problems)
            continue
        branches[branch.id] = branch
    if problems:
        raise ConfigError(problems)
    return branches


# Which model checks which file: by parent folder name, then by file name.
_KINDS_BY_DIR: dict[str, type[BaseModel]] = {"branches": BranchConfig}
_KINDS_BY_NAME: dict[str, type[BaseModel]] = {"hub": HubSettings, "server": ServerSettings, "edge": HubSettings,
                                              "central": HubSettings}


def register_kind(*, directory: str | None = None, name: str | None = None, model: type[BaseModel]):
    """Let another part (e.g. the kiosk) teach `config check` about its files."""
    if directory:
        _KINDS_BY_DIR[directory] = model
    if name:
        _KINDS_BY_NAME[name] = model


def check_file(path: Path) -> list[ConfigProblem]:
    model = _KINDS_BY_DIR.get(path.parent.name) or _KINDS_BY_NAME.get(path.stem)
    if model is None:
        allowed = sorted(f"{d}/*.toml" for d in _KINDS_BY_DIR) + sorted(
            f"{n}.toml" for n in _KINDS_BY_NAME
        )
        return [ConfigProblem(str(path), "-", f"unknown kind of config file; allowed: {allowed}")]
    try:
        if model is BranchConfig:
            load_branch(path)
        else:
            validate(model, _read_toml(path), path)
    except ConfigError as err:
        return err.problems
    return []


def check_files(paths: Iterable[Path]) -> list[ConfigProblem]:
    return [p for path in paths for p in check_file(path)]
