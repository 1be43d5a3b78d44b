"""The CRM's settings for every process that runs CRM code (server, hub, jobs): keys, thresholds, rules."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property

from server.customers.privacy import Keyring
from server.customers.rules import CrmRules
from szconfig import ServerSettings, default_config_dir, load_server_settings
from szconfig.mqtt_auth import read_secret_file
from szconfig.secrets import reveal


@dataclass
class CrmConfig:
    settings: ServerSettings
    rules: CrmRules

    @cached_property
    def keyring(self) -> Keyring:
        """From template_keys_file when set, else template_keys; ValueError when none (an edge without the key)."""
        if self.settings.template_keys_file is not None:
            return Keyring.parse(reveal(read_secret_file(self.settings.template_keys_file)))
        return Keyring.parse(reveal(self.settings.template_keys))

    def identity_key(self, branch_id: str | None) -> str:
        return reveal(self.settings.identity_keys.get(branch_id or "", self.settings.identity_key))

    def identity_keys(self) -> set[str]:
        """Every key a kiosk may hash with, so an imported number matches in any branch."""
        return {reveal(k) for k in (self.settings.identity_key, *self.settings.identity_keys.values())}


_current: CrmConfig | None = None


def load_rules() -> CrmRules:
    path = default_config_dir() / "crm.toml"
    if path.exists():
        with path.open("rb") as f:
            return CrmRules.model_validate(tomllib.load(f))
    return CrmRules()


def configure(settings: ServerSettings | None = None, rules: CrmRules | None = None) -> CrmConfig:
    """Set the process's CRM settings (the server's create_app, tests); returns them."""
    global _current
    if settings is None:
        path = default_config_dir() / "server.toml"
        settings = load_server_settings(path if path.exists() else None)
    _current = CrmConfig(settings, rules or load_rules())
    return _current


def crm() -> CrmConfig:
    """The current CRM settings, loaded from configs/server.toml and SZ_* on first use (the hub)."""
    return _current or configure()
