"""A kiosk's settings: who it is, where its peripherals are, how it behaves offline."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from szconfig.branch import Text
from wire.ids import Ident

SIM = "sim"


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


class SerialPortConfig(BaseModel):
    """One serial peripheral: a port name, a pyserial URL, `sim` (a simulator on a pty) or `none`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    port: str = Field(default=SIM, min_length=1,
                      description="/dev/ttyUSB0, COM3, socket://host:4001, `sim` (built-in simulator) "
                                  "or `none` (not fitted)")
    baudrate: int = Field(default=9600, ge=1200, le=921600, description="line speed in baud")

    @property
    def fitted(self) -> bool:
        return self.port != "none"

    @property
    def simulated(self) -> bool:
        return self.port == SIM


class LocalNumbers(BaseModel):
    """The reserved per-device ticket number range used when the hub does not answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{0,3}$")] = Field(
        description="prefix of provisional tickets, e.g. K1 gives K1-017; unique per device in a branch")
    first: int = Field(default=1, ge=0, le=9999, description="first number of the range")
    last: int = Field(default=999, ge=1, le=9999, description="last number; then it wraps to `first`")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.last <= self.first:
            raise ValueError("last must be greater than first")
        return self


class KioskConfig(BaseModel):
    """Settings of `smartzone kiosk --config FILE` (configs/kiosk/<branch>-<device>.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: Ident = Field(description="device id, as in the branch's [[devices]] and MQTT topics")
    branch: Ident = Field(description="branch id (configs/branches/<branch>.toml)")
    broker: str = Field(default="mqtt://127.0.0.1:1883",
                        description="mqtt://[user:pass@]host:port or mqtts://… of the branch broker")
    mqtt_username: str | None = Field(
        default=None, min_length=1,
        description="this kiosk's broker account, `<branch>.<device>` (smartzone devices provision); the "
                    "password comes from SZ_MQTT_PASSWORD or mqtt_password_file, never from this file")
    mqtt_password_file: Path | None = Field(
        default=None, description="file whose first line is the broker password; kept outside the repository")
    language: Language = Field(default=Language.ZH, description="language after idle: zh (zh-CN) or en")
    elder_mode: bool = Field(default=False, description="start every customer in large-text mode")
    consent_version: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="version of the face-recognition consent text shown; sent with every face probe")
    branch_key_env: Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")] = Field(
        default="SZ_BRANCH_KEY",
        description="environment variable holding the branch HMAC key for card and ID hashes")
    dev_branch_key: SecretStr | None = Field(
        default=None, min_length=8,
        description="development-only key used when the environment variable is unset; `smartzone kiosk` "
                    "refuses it without --dev")
    card_reader: SerialPortConfig = Field(default_factory=SerialPortConfig,
                                          description="the motorised bank-card reader")
    id_reader: SerialPortConfig = Field(default_factory=SerialPortConfig,
                                        description="the resident ID card reader")
    printer: SerialPortConfig = Field(default_factory=lambda: SerialPortConfig(baudrate=19200),
                                      description="the ESC/POS receipt printer")
    camera: str = Field(default=SIM, min_length=1,
                        description="camera: a device index (0), a video file or URL, `sim` or `none`")
    face_recognition: bool = Field(default=True,
                                   description="offer the opt-in `recognise me` flow (needs a camera)")
    local_numbers: LocalNumbers = Field(description="reserved provisional ticket range of this kiosk")
    reply_timeout_s: float = Field(default=3.0, gt=0, le=30,
                                   description="seconds to wait for the hub before a provisional ticket")
    idle_timeout_s: float = Field(default=60.0, gt=0, le=3600,
                                  description="seconds without a touch before the attract screen returns")
    heartbeat_s: float = Field(default=30.0, ge=1, le=3600, description="seconds between heartbeats")
    status_poll_s: float = Field(default=5.0, gt=0, le=600,
                                 description="seconds between peripheral status polls")
    speech: bool = Field(default=True, description="speak prompts in elder mode (espeak-ng, if installed)")
    appointment_business: Ident = Field(
        default="wealth", description="business code of a priority ticket for a typed appointment code")
    alternative: Text = Field(
        default=Text(zh="请到柜台或使用旁边的自助机",
                     en="Please use the kiosk next to this one or a counter"),
        description="where to send customers while this kiosk is out of service")
    status_url: str = Field(default="https://q.example.invalid/t/{branch}/{number}",
                            description="queue status link printed as QR; {branch} and {number} filled in")
    ticket_page_base: str = Field(
        default="http://127.0.0.1:8000",
        description="base URL of the server's public ticket page; the QR code links to <base>/t/<token> "
                    "when the hub issued the ticket (status_url is used for provisional tickets)")
    var_dir: Path = Field(default=Path("var"), description="where the outbox and local state live")
    branches_dir: Path = Field(default=Path("configs/branches"), description="branch TOML files")

    def branch_key(self) -> str:
        """The HMAC key: the environment first, the development key second."""
        key = os.environ.get(self.branch_key_env) or (self.dev_branch_key and self.dev_branch_key.get_secret_value())
        if not key:
            raise ValueError(f"no branch key: set {self.branch_key_env} (or dev_branch_key for development)")
        return key

    def mqtt_credentials(self) -> tuple[str | None, SecretStr | None]:
        """(username, password) for the broker; raises SecretSourceError for an unusable password file."""
        from szconfig.mqtt_auth import mqtt_password

        return self.mqtt_username, mqtt_password(self.mqtt_password_file)

    @property
    def outbox_path(self) -> Path:
        return self.var_dir / f"kiosk-{self.branch}-{self.device}.db"


def load_kiosk_config(path: Path) -> KioskConfig:
    """Read and validate a kiosk TOML file; ConfigError names the file and the key. SZ_BROKER, SZ_KIOSK_VAR and
    SZ_TICKET_PAGE_BASE win over the file's `broker`, `var_dir` and `ticket_page_base` (e.g. to join the demo:
    its broker, its var folder, its console)."""
    from szconfig.loader import _read_toml, validate

    data = _read_toml(Path(path))
    for env, key in ENV_OVERRIDES.items():
        if os.environ.get(env):
            data[key] = os.environ[env]
    return validate(KioskConfig, data, path)


ENV_OVERRIDES = {"SZ_BROKER": "broker", "SZ_KIOSK_VAR": "var_dir", "SZ_TICKET_PAGE_BASE": "ticket_page_base"}


def _register() -> None:
    from szconfig.loader import register_kind

    register_kind(directory="kiosk", model=KioskConfig)


_register()
