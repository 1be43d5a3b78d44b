"""Process settings for the hub and the server: defaults, then TOML, then SZ_* environment."""

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class MqttVersion(StrEnum):
    V311 = "3.1.1"
    V5 = "5"


class HubSettings(BaseModel):
    """Settings of `smartzone hub`; every field can be overridden by SZ_<NAME> (e.g. SZ_BROKER)."""

    model_config = ConfigDict(extra="forbid")

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
    mqtt_version: MqttVersion = Field(default=MqttVersion.V311)
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    session_expiry_s: int = Field(
        default=7 * 24 * 3600, ge=60, description="how long the broker keeps our queue while away"
    )
    batch_max: int = Field(default=500, ge=1, le=10_000, description="messages per transaction")
    batch_wait_ms: int = Field(default=20, ge=0, le=5_000, description="longest wait to fill a batch")
    max_payload_bytes: int = Field(default=64 * 1024, ge=256, le=16 * 1024 * 1024)
    branches_dir: Path = Field(default=Path("configs/branches"), description="branch TOML files")
    var_dir: Path = Field(default=Path("var"), description="where the embedded broker keeps its data")
    tls_ca_file: Path | None = Field(default=None, description="CA bundle for mqtts:// brokers")


class ServerSettings(BaseModel):
    """Settings of `smartzone server`; every field can be overridden by SZ_<NAME>."""

    model_config = ConfigDict(extra="forbid")

    db: str = Field(default="sqlite:///var/smartzone.db", description="SQLAlchemy URL")
    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8000, ge=0, le=65535)
    branches_dir: Path = Field(default=Path("configs/branches"))
