"""A resident ID card reader on a pty: `insert id|expired|unreadable`, `take`, plus the common faults."""

from __future__ import annotations

from datetime import date
from typing import Any

from hardware.common.framing import Command, Reply
from hardware.common.simulator import DevicePort, FramedDeviceSimulator
from hardware.id_reader import protocol as p

CARDS: dict[str, p.IdentityFields | None] = {
    "id": p.IdentityFields("张三", "男", "11010519491231002X", date(2020, 1, 1), date(2040, 1, 1),
                           "北京市公安局朝阳分局"),
    "long": p.IdentityFields("李四", "男", "440301198506151238", date(2010, 5, 1), None, "北京市公安局"),
    "expired": p.IdentityFields("王五", "男", "11010519491231002X", date(2000, 1, 1), date(2020, 1, 1),
                                "北京市公安局"),
    "unreadable": None,
}


class IdReaderSimulator(FramedDeviceSimulator):
    """The device model: a card lying on the antenna (or not)."""

    kind = "id-reader"

    def __init__(self, port: DevicePort, *, seed: int | None = None) -> None:
        super().__init__(port, seed=seed)
        self.card: str | None = None
        self.failed = False

    def handle(self, command: Command) -> Reply:
        media = b"2" if self.card else b"0"

        def ok(data: bytes = b"") -> Reply:
            return Reply(command.cm, command.pm, True, media + b"0", data)

        def no(code: bytes) -> Reply:
            return Reply(command.cm, command.pm, False, code)

        if self.failed and command.cm != p.CM_STATUS:
            return no(p.E_HARDWARE)
        if command.cm in (p.CM_RESET, p.CM_STATUS):
            return ok()
        if command.cm == p.CM_FIND:
            return ok() if self.card else no(p.E_NO_CARD)
        if command.cm == p.CM_READ:
            if not self.card:
                return no(p.E_NO_CARD)
            fields = CARDS[self.card]
            return ok(p.encode_identity(fields)) if fields else no(p.E_READ_FAILED)
        return no(p.E_UNKNOWN_COMMAND)

    def handle_control(self, verb: str, args: list[str], count: int) -> bool:
        if verb == "insert":
            label = args[0].lower() if args else "id"
            if label not in CARDS:
                raise ValueError(f"no such card {label!r}; one of {', '.join(CARDS)}")
            self.card = label
        elif verb in ("take", "remove"):
            self.card = None
        elif verb == "fail":
            self.failed = True
        elif verb == "repair":
            self.failed = False
        else:
            return False
        return True

    def help(self) -> str:
        return "insert id|long|expired|unreadable, take, fail, repair, " + super().help()

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "card": self.card}
