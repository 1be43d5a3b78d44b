"""The wire contract between devices and the hub: topics, the envelope, message models.

Pure: no broker client and no database here, so kiosks and tests import it freely.
"""

from wire.enums import (
    Component,
    DeviceState,
    ErrorAction,
    MediaState,
    OfflineReason,
    Outcome,
    PaperState,
    RetainBinState,
)
from wire.messages import (
    ALL_DEVICE_TYPES,
    EVENT_TYPES,
    HUB_TYPES,
    PROTOCOL_VERSION,
    decode_device_message,
    decode_hub_message,
    encode,
    envelope,
    json_schema,
)
from wire.topics import (
    HUB_TOPICS,
    Topic,
    TopicError,
    TopicKind,
    branch_topic,
    device_topic,
    hub_topic,
    parse,
)

__all__ = [
    "ALL_DEVICE_TYPES",
    "EVENT_TYPES",
    "HUB_TOPICS",
    "HUB_TYPES",
    "PROTOCOL_VERSION",
    "Component",
    "DeviceState",
    "ErrorAction",
    "MediaState",
    "OfflineReason",
    "Outcome",
    "PaperState",
    "RetainBinState",
    "Topic",
    "TopicError",
    "TopicKind",
    "branch_topic",
    "decode_device_message",
    "decode_hub_message",
    "device_topic",
    "encode",
    "envelope",
    "hub_topic",
    "json_schema",
    "parse",
]
