"""Process settings for the hub and the server: defaults, then TOML, then SZ_* environment."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from szconfig.roles import Role
from szconfig.secrets import DEV_IDENTITY_KEY, DEV_NOTIFY_SECRET, DEV_TEMPLATE_KEYS, DEV_WEBHOOK_SECRET

# a bot webhook's place in the rota: `<branch>/<team>`, `*` for any branch or team
BotKey = Annotated[str, StringConstraints(pattern=r"^([A-Za-z0-9_-]{1,32}|\*)/(branch|field|managers|\*)$")]
HttpUrlText = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=500)]


class MqttVersion(StrEnum):
    V311 = "3.1.1"
    V5 = "5"


class HubSettings(BaseModel):
    """Settings of `smartzone hub`; every field can be overridden by SZ_<NAME> (e.g. SZ_BROKER)."""

    model_config = ConfigDict(extra="forbid")

    role: Role = Field(
        default=Role.ALL,
        description="edge: one branch's queue (its broker, hub and server on SQLite), linked to the centre; "
                    "central: CRM, fleet and KPIs across branches; all: both in one process tree")
    branch: str | None = Field(
        default=None, pattern=r"^[a-z0-9_-]{1,32}$",
        description="the branch this edge serves (role edge only)")
    central: str | None = Field(
        default=None,
        description="role edge: the central broker its Mosquitto bridges to, mqtts://host:8883 (TLS) or "
                    "mqtt://host:port; the account is edge@<branch>, its password from SZ_CENTRAL_PASSWORD or "
                    "central_password_file")
    central_password_file: Path | None = Field(
        default=None, description="role edge: file whose first line is the edge account's password on the "
                                  "central broker; outside the repository")
    central_ca_file: Path | None = Field(default=None, description="role edge: CA bundle for an mqtts:// centre")
    uplink_confirm_timeout_s: float = Field(
        default=30.0, gt=0, le=3600,
        description="an event sent up that the centre has not confirmed within this is sent again "
                    "(doubling while the centre stays silent, up to 10 minutes)")
    uplink_window: int = Field(
        default=5000, ge=1, le=100_000,
        description="role edge: events sent up and not yet confirmed by the centre, at most (a round trip to the "
                    "centre carries at most this many)")
    broker: str = Field(
        default="embedded",
        description="mqtt://[user:pass@]host:port, mqtts://… (TLS) or `embedded` (a broker of our own)",
    )
    db: str = Field(
        default="sqlite:///var/smartzone.db", description="SQLAlchemy URL of the database"
    )
    client_id: str = Field(default="sz-hub-1", min_length=1, max_length=64)
    shared_group: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9_-]+$",
        description="share the subscription with other hub workers ($share/<group>/…)",
    )
    workers: int = Field(
        default=1, ge=1, le=64,
        description="hub processes sharing the subscription (group `hub` unless shared_group is set); "
                    "one process uses about one core")
    mqtt_version: MqttVersion = Field(default=MqttVersion.V311)
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    session_expiry_s: int = Field(
        default=7 * 24 * 3600, ge=60, description="how long the broker keeps our queue while away"
    )
    batch_max: int = Field(default=500, ge=1, le=10_000, description="messages per transaction")
    batch_wait_ms: int = Field(default=20, ge=0, le=5_000, description="longest wait to fill a batch")
    max_payload_bytes: int = Field(default=64 * 1024, ge=256, le=16 * 1024 * 1024)
    max_clock_ahead_s: float = Field(
        default=600, ge=0, description="an event dated further ahead of the hub's clock is dead-lettered (clock_skew)")
    max_event_age_s: float = Field(
        default=30 * 86400, ge=60,
        description="an event older than this on arrival is dead-lettered (clock_skew); long enough for a device "
                    "or a branch that was offline for days")
    branches_dir: Path = Field(default=Path("configs/branches"), description="branch TOML files")
    var_dir: Path = Field(default=Path("var"), description="where the embedded broker keeps its data")
    tls_ca_file: Path | None = Field(default=None, description="CA bundle for mqtts:// brokers")
    mqtt_username: str | None = Field(
        default=None, min_length=1, description="broker account (`hub`; see `smartzone devices provision-service`); "
                                                "the password comes from SZ_MQTT_PASSWORD or mqtt_password_file")
    mqtt_password_file: Path | None = Field(
        default=None, description="file whose first line is the broker password; outside the repository")

    @model_validator(mode="after")
    def _edge_has_a_branch(self) -> "HubSettings":
        if self.role is Role.EDGE and not self.branch:
            raise ValueError("role edge needs the branch it serves (branch = \"b001\", or --branch)")
        return self


class ServerSettings(BaseModel):
    """Settings of `smartzone server`; every field can be overridden by SZ_<NAME>."""

    model_config = ConfigDict(extra="forbid")

    role: Role = Field(
        default=Role.ALL,
        description="which pages, API and jobs this server runs: edge (one branch's queue and consoles), "
                    "central (CRM, fleet, KPIs across branches) or all")
    db: str = Field(default="sqlite:///var/smartzone.db", description="SQLAlchemy URL")
    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8000, ge=0, le=65535)
    branches_dir: Path = Field(default=Path("configs/branches"))
    jobs: bool = Field(
        default=True,
        description="run the scheduled jobs (presence time-outs, escalations, SLAs, webhooks, purges); of all "
                    "processes on one database only the holder of the scheduler lease runs them")
    jobs_lease_s: float = Field(
        default=15.0, ge=3, le=600,
        description="scheduler lease time: another process takes the jobs over this long after the holder died")
    # --- CRM (docs/crm.md, docs/privacy.md) ---
    identity_key: SecretStr = Field(
        default=SecretStr(DEV_IDENTITY_KEY), min_length=8,
        description="HMAC-SHA256 key for card/ID/phone hashes (the kiosks' branch key); the development "
                    "default is the simulator's key, refused without --dev: set SZ_IDENTITY_KEY")
    identity_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="per-branch HMAC keys (TOML only): branch id → key, overriding identity_key")
    template_keys: SecretStr = Field(
        default=SecretStr(DEV_TEMPLATE_KEYS),
        description="AES-256-GCM keys for face templates as `id:base64(32 bytes)[,id:key…]`; the first encrypts, "
                    "all decrypt (rotation); the default is for development only (refused without --dev): "
                    "set SZ_TEMPLATE_KEYS (or template_keys_file); an edge needs the same keys to greet "
                    "customers from its cached templates")
    template_keys_file: Path | None = Field(
        default=None, description="file whose first line is template_keys (overriding it); outside the repository")
    face_threshold: float = Field(default=0.45, gt=0, lt=2, description="largest embedding distance for a match")
    face_margin: float = Field(default=0.03, ge=0, lt=1, description="best must beat the runner-up person by this")
    template_retention_days: int = Field(default=365, ge=1, description="unused face templates are purged after")
    referral_sla_minutes: int = Field(default=15, ge=1, description="accept a lead within this, else escalate")
    conversion_window_days: int = Field(default=30, ge=1, description="a lead may convert within this many days")
    webhook_url: str | None = Field(default=None, description="external CRM endpoint for touchpoints and lead changes")
    webhook_secret: SecretStr = Field(
        default=SecretStr(DEV_WEBHOOK_SECRET), min_length=8,
        description="HMAC-SHA256 secret that signs webhook bodies; the development default is refused without "
                    "--dev: set SZ_WEBHOOK_SECRET")
    # --- retention (docs/privacy.md#retention): scheduled jobs delete what is older, in bounded chunks ---
    touchpoint_retention_days: int = Field(
        default=730, ge=30, le=36500, description="touchpoints (every contact with a customer) are deleted after")
    visit_retention_days: int = Field(
        default=730, ge=30, le=36500, description="visits (a customer's stays) are deleted this long after they began")
    audit_retention_days: int = Field(
        default=1825, ge=365, le=36500,
        description="audit entries are deleted after this; at least as long as touchpoints and visits are kept")
    retention_chunk_rows: int = Field(
        default=2000, ge=10, le=100_000, description="rows deleted per transaction (short locks on a busy database)")
    retention_max_rows: int = Field(
        default=200_000, ge=10, le=100_000_000,
        description="rows one run of a retention job deletes at most; the next run goes on where it stopped")
    # --- notifications (docs/devices.md#notifications) ---
    console_url: str | None = Field(
        default=None, pattern=r"^https?://[^\s]+$",
        description="the console's address as staff reach it (e.g. https://sz.branch.example), for links in "
                    "e-mails and bot messages; without it they carry the console path only")
    smtp_url: str | None = Field(
        default=None, pattern=r"^(smtp|smtps|smtp\+starttls)://[^/\s:@]+(:[0-9]{1,5})?$",
        description="SMTP server for e-mail notifications: smtp://host:25, smtp+starttls://host:587 or "
                    "smtps://host:465; none: no e-mail")
    smtp_username: str | None = Field(default=None, min_length=1, max_length=200, description="SMTP account")
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password: set SZ_SMTP_PASSWORD (or smtp_password_file), never in a file "
                                  "of the repository")
    smtp_password_file: Path | None = Field(
        default=None, description="file whose first line is the SMTP password; outside the repository")
    mail_from: str = Field(default="smartzone@localhost", pattern=r"^[^@\s]+@[^@\s]+$",
                           description="sender address of e-mail notifications")
    notify_webhooks: dict[BotKey, HttpUrlText] = Field(
        default_factory=dict,
        description="bot webhooks (TOML only) by `<branch>/<team>` with `*` for any, e.g. "
                    "{\"b001/branch\" = \"https://…\", \"*/field\" = \"https://…\"}; teams: branch, field, managers")
    notify_webhook_secret: SecretStr = Field(
        default=SecretStr(DEV_NOTIFY_SECRET), min_length=16,
        description="HMAC-SHA256 key that signs bot webhooks; the development default is refused without --dev "
                    "once a webhook is configured: set SZ_NOTIFY_WEBHOOK_SECRET or notify_webhook_secret_file")
    notify_webhook_secret_file: Path | None = Field(
        default=None, description="file whose first line is the bot webhook signing key; outside the repository")

    @model_validator(mode="after")
    def _audit_kept_longest(self) -> Self:
        """The audit log says who saw what: it must outlive the customer data it speaks of."""
        kept = max(self.touchpoint_retention_days, self.visit_retention_days)
        if self.audit_retention_days < kept:
            raise ValueError(f"audit_retention_days ({self.audit_retention_days}) must be at least as long as "
                             f"touchpoints and visits are kept ({kept} days)")
        return self
