"""A simulated kiosk's answers to remote commands, and faults on demand (tests, demo, benchmarks).

`responding_link(...)` builds a DeviceLink whose commands are answered like the real kiosk does:
expired → `expired`, unknown → `refused`, `restart` while a card is inside → `refused`, else `ok`.
`paper(state)` and `card(inside)` report printer paper and card-reader media status on demand.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from device_hub.link.device import DeviceLink
from device_hub.link.mqtt import BrokerUrl
from device_hub.sim.flows import component_status, paper_status
from wire import Component, DeviceState, MediaState, PaperState, TopicKind
from wire.messages import (
    CommandMessage,
    CommandResultData,
    CommandResultMessage,
    StatusData,
    StatusMessage,
)

KNOWN = {"out_of_service", "in_service", "reload_config", "print_test", "diagnostics", "restart"}


class CommandResponder:
    def __init__(self) -> None:
        self.link: DeviceLink | None = None
        self.card_inside = False
        self.received: list[str] = []  # command ids, in order of arrival
        self.answered: dict[str, str] = {}  # command id → status sent
        self._lock = threading.Lock()

    def on_message(self, msg: Any) -> None:
        """DeviceLink's `on_message`: commands are answered, replies are not this responder's business."""
        if not isinstance(msg, CommandMessage) or self.link is None:
            return
        c = msg.data
        with self._lock:
            self.received.append(c.command_id)
            if c.command_id in self.answered:
                return  # a redelivery: answered already
            if c.expires_at <= datetime.now(UTC):
                status, detail = "expired", None
            elif c.name not in KNOWN:
                status, detail = "refused", f"unknown command {c.name!r}"
            elif c.name in ("restart", "reload_config") and self.card_inside:
                status, detail = "refused", "a card is inside the reader"
            else:
                status, detail = "ok", f"{c.name} done"
            self.answered[c.command_id] = status
        self.link.send(CommandResultMessage, CommandResultData(command_id=c.command_id, status=status, detail=detail),
                       topic_kind=TopicKind.COMMAND_RESULT)

    def report_components(self) -> None:
        """Every declared component's status, as a kiosk reports it once it is up (the console shows each)."""
        for name in self.link.components:
            message_type, data, kind = component_status(Component(name))
            self.link.send(message_type, data, topic_kind=kind)

    def paper(self, state: PaperState | str) -> Any:
        message_type, data, kind = paper_status(PaperState(state))
        return self.link.send(message_type, data, topic_kind=kind)

    def card(self, inside: bool) -> Any:
        self.card_inside = inside
        data = StatusData(component=Component.CARD_READER, device=DeviceState.ONLINE,
                          media=MediaState.PRESENT if inside else MediaState.NOT_PRESENT)
        return self.link.send(StatusMessage, data, topic_kind=TopicKind.STATUS)


def responding_link(url: BrokerUrl, *, branch: str, device: str, **kwargs: Any) -> tuple[DeviceLink, CommandResponder]:
    """A DeviceLink (not started) that answers commands through a CommandResponder."""
    responder = CommandResponder()
    kwargs.setdefault("components", ["cardReader", "printer", "camera"])
    link = DeviceLink(url, branch=branch, device=device, on_message=responder.on_message, **kwargs)
    responder.link = link
    return link, responder
