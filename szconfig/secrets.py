"""The repository's development secrets, and the start-up check that refuses them outside development.

The defaults of ServerSettings and the kiosks' `dev_branch_key` are published in this repository, so a
process using them is open to anyone who reads it. Commands call `check_*_secrets` (the composition
root decides, not the model: tests and tools build settings with the defaults freely); `--dev` and the
demo pass `dev=True`, which logs a loud warning instead.
"""

from __future__ import annotations

import logging

from pydantic import SecretStr

DEV_IDENTITY_KEY = "smartzone-simulator-branch-key"  # also the simulated kiosks' branch key (device_hub.sim)
DEV_TEMPLATE_KEY = "c21hcnR6b25lLWRldi10ZW1wbGF0ZS1rZXktMzJieXQ="  # base64 of the development AES key
DEV_TEMPLATE_KEYS = f"dev1:{DEV_TEMPLATE_KEY}"
DEV_WEBHOOK_SECRET = "smartzone-dev-webhook-secret"
DEV_NOTIFY_SECRET = "smartzone-dev-notify-secret"  # signs bot webhooks (notifications)
DEV_HARDWARE_KEY = "smartzone-development-key"  # `smartzone hw` tools without SZ_BRANCH_KEY
DEV_KEYS = frozenset({DEV_IDENTITY_KEY, DEV_WEBHOOK_SECRET, DEV_HARDWARE_KEY, DEV_TEMPLATE_KEY, DEV_NOTIFY_SECRET})

log = logging.getLogger("smartzone.secrets")


class DevSecretError(ValueError):
    """A process would run with a development secret; str() is the one-line message for the operator."""


def reveal(value: SecretStr | str) -> str:
    """The secret's text; also takes a plain str (a `model_copy(update=…)` does not validate)."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def is_dev(value: SecretStr | str | None) -> bool:
    return value is not None and reveal(value).strip() in DEV_KEYS


def server_dev_secrets(settings) -> list[str]:
    """The environment variables (or TOML keys) of ServerSettings that hold a development secret."""
    found = []
    if is_dev(settings.identity_key):
        found.append("SZ_IDENTITY_KEY")
    found += [f"identity_keys.{branch} (server.toml)" for branch, key in sorted(settings.identity_keys.items())
              if is_dev(key)]
    keys = reveal(settings.template_keys)
    from_file = getattr(settings, "template_keys_file", None) is not None
    if not from_file and any(part.partition(":")[2].strip() == DEV_TEMPLATE_KEY for part in keys.split(",")):
        found.append("SZ_TEMPLATE_KEYS")
    if is_dev(settings.webhook_secret):
        found.append("SZ_WEBHOOK_SECRET")
    if settings.notify_webhooks and settings.notify_webhook_secret_file is None \
            and is_dev(settings.notify_webhook_secret):
        found.append("SZ_NOTIFY_WEBHOOK_SECRET")  # only once a bot is configured: nothing else is signed with it
    return found


def check_server_secrets(settings, *, dev: bool, what: str = "the server", only: set[str] | None = None) -> None:
    """Refuse (DevSecretError) or, with `dev`, warn about the development secrets in ServerSettings.

    `only` limits the check to the variables a process uses (the hub decrypts face templates, but
    neither hashes identities nor signs webhooks).
    """
    _refuse([n for n in server_dev_secrets(settings) if only is None or n in only], dev=dev, what=what)


def check_kiosk_secrets(config, environ, *, dev: bool) -> None:
    """Refuse a kiosk whose branch key variable is unset (so dev_branch_key would be used) or a dev key."""
    name = config.branch_key_env
    value = environ.get(name)
    if not value and config.dev_branch_key is None:
        return  # no key at all: the kiosk itself says to set it
    _refuse([name] if not value or is_dev(value) else [], dev=dev, what="the kiosk", unset=not value)


def _refuse(names: list[str], *, dev: bool, what: str, unset: bool = False) -> None:
    if not names:
        return
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    if dev:
        log.warning("DEVELOPMENT MODE: %s runs with the repository's development secret%s (%s); anyone who has "
                    "read this repository can forge or read what they protect. Never use --dev in a branch.",
                    what, "s" if len(names) > 1 else "", listed)
        return
    if unset:
        raise DevSecretError(f"{listed} is not set and the config's dev_branch_key is for development only; "
                             f"set {listed} or pass --dev")
    verb = "is the repository's development key" if len(names) == 1 else "are the repository's development secrets"
    raise DevSecretError(f"{listed} {verb}; set {listed} or pass --dev")
