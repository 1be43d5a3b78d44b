"""The process's notification channels, from ServerSettings: SMTP server, bot webhooks and their signing key.

Set by the app (`configure(app.state.settings)`) or by tests; otherwise read once from configs/server.toml
and SZ_* (as the CRM's settings are). Secrets come from SZ_* variables or files outside the repository.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from szconfig import ServerSettings, default_config_dir, load_server_settings
from szconfig.mqtt_auth import read_secret_file
from szconfig.secrets import reveal


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    security: str  # "plain" | "starttls" | "tls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "smartzone@localhost"


@dataclass(frozen=True)
class NotifyConfig:
    smtp: Smtp | None = None
    bots: dict[str, str] = field(default_factory=dict)  # "<branch>/<team>" (or *) → URL
    secret: str = field(default="", repr=False)         # signs bot webhooks
    console_url: str | None = None

    def bots_for(self, branch_id: str, team: str) -> list[tuple[str, str]]:
        """(key, url) of every bot configured for the branch and team, most specific key first, each URL once."""
        out: dict[str, str] = {}
        for key in (f"{branch_id}/{team}", f"{branch_id}/*", f"*/{team}", "*/*"):
            url = self.bots.get(key)
            if url and url not in out.values():
                out[key] = url
        return list(out.items())

    def link(self, path: str | None) -> str | None:
        if not path:
            return None
        return (self.console_url.rstrip("/") + path) if self.console_url else path


_PORTS = {"smtp": (25, "plain"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


def from_settings(settings: ServerSettings) -> NotifyConfig:
    smtp = None
    if settings.smtp_url:
        url = urlsplit(settings.smtp_url)
        port, security = _PORTS[url.scheme]
        password = settings.smtp_password
        if settings.smtp_password_file is not None:
            password = read_secret_file(settings.smtp_password_file)
        smtp = Smtp(host=url.hostname or "", port=url.port or port, security=security,
                    username=settings.smtp_username, password=reveal(password) if password else None,
                    sender=settings.mail_from)
    secret = settings.notify_webhook_secret
    if settings.notify_webhook_secret_file is not None:
        secret = read_secret_file(settings.notify_webhook_secret_file)
    return NotifyConfig(smtp=smtp, bots=dict(settings.notify_webhooks), secret=reveal(secret),
                        console_url=settings.console_url)


_current: NotifyConfig | None = None


def configure(settings: ServerSettings | NotifyConfig | None = None) -> NotifyConfig:
    """Set the process's channels (the app at start, tests); returns them."""
    global _current
    if isinstance(settings, NotifyConfig):
        _current = settings
        return _current
    if settings is None:
        path = default_config_dir() / "server.toml"
        settings = load_server_settings(path if path.exists() else None)
    _current = from_settings(settings)
    return _current


def current() -> NotifyConfig:
    return _current or configure()
