"""Typed configuration shared by every smartzone process: TOML files, environment overrides."""

from szconfig.branch import BranchConfig, BusinessType, Channel, Counter, Zone
from szconfig.loader import (
    ConfigError,
    ConfigProblem,
    check_files,
    default_config_dir,
    load_branches,
    load_hub_settings,
    load_server_settings,
)
from szconfig.processes import HubSettings, ServerSettings
from szconfig.roles import Role

__all__ = [
    "BranchConfig",
    "BusinessType",
    "Channel",
    "ConfigError",
    "ConfigProblem",
    "Counter",
    "HubSettings",
    "Role",
    "ServerSettings",
    "Zone",
    "check_files",
    "default_config_dir",
    "load_branches",
    "load_hub_settings",
    "load_server_settings",
]

from szconfig import kiosk as _kiosk  # noqa: F401  (registers configs/kiosk/*.toml)
