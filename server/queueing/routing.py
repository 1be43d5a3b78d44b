"""Flow routing (pure): which channel serves a request, which rule decided, and why.

`route()` walks the branch's rules in order; the first whose conditions all hold decides. Without a
matching rule the business's own channel serves it — except that a self-service business never goes
to a self-service zone whose devices are all down (built-in rule `devices_down`). When the load says
which businesses each channel's open counters serve, no rule sends a ticket to a line where nobody has
its skill while another line has someone (built-in rule `no_skill` picks that line).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from szconfig.branch import BusinessType, Channel, PriorityClass, RoutingRule, Tier


@dataclass(frozen=True)
class RouteRequest:
    """What is known about a customer asking for a ticket."""

    business: str
    tier: Tier = Tier.REGULAR
    elderly: bool = False
    appointment: bool = False


@dataclass(frozen=True)
class Load:
    """The branch right now: waiting tickets per channel, self-service devices online and, when known,
    per channel the businesses its open counters have the skill for."""

    waiting: Mapping[Channel, int] = field(default_factory=dict)
    devices_free: int = 0
    served: Mapping[Channel, frozenset[str]] | None = None

    def serves(self, channel: Channel, business: str) -> bool:
        """Someone in `channel` can serve `business` (self-service: a device is free; unknown: yes)."""
        if channel is Channel.SELF_SERVICE:
            return self.devices_free > 0
        return self.served is None or business in self.served.get(channel, frozenset())


@dataclass(frozen=True)
class Decision:
    channel: Channel
    priority: PriorityClass
    rule: str
    reason_zh: str
    reason_en: str

    def reason(self, locale: str) -> str:
        return self.reason_zh if locale.startswith("zh") else self.reason_en


def _matches(rule: RoutingRule, req: RouteRequest, business: BusinessType, load: Load, target: Channel) -> bool:
    w = rule.when
    return ((not w.business or req.business in w.business)
            and (not w.business_channel or business.channel in w.business_channel)
            and (not w.tier or req.tier in w.tier)
            and (w.elderly is None or w.elderly == req.elderly)
            and (w.appointment is None or w.appointment == req.appointment)
            and (w.min_devices_free is None or load.devices_free >= w.min_devices_free)
            and (w.max_channel_waiting is None or load.waiting.get(target, 0) <= w.max_channel_waiting))


def route(req: RouteRequest, business: BusinessType, rules: Sequence[RoutingRule], load: Load) -> Decision:
    """Decide the channel and calling class of one request; every decision names its rule and reason."""
    params = {"devices_free": load.devices_free, "business": business.code}
    able = _able(business, load)
    for rule in rules:
        target = rule.route_to or business.channel
        if target is Channel.SELF_SERVICE and load.devices_free == 0:
            continue  # never send anyone to a zone whose devices are down
        if able and target not in able:
            continue  # nor to a line where no open counter has the skill, while another line has one
        if _matches(rule, req, business, load, target):
            params["waiting"] = load.waiting.get(target, 0)
            return Decision(target, rule.priority, rule.id, _fmt(rule.reason.zh, params),
                            _fmt(rule.reason.en, params))
    own = business.channel
    if own is Channel.SELF_SERVICE and load.devices_free == 0 and (not able or Channel.COUNTER in able):
        return Decision(Channel.COUNTER, PriorityClass.REGULAR, "devices_down",
                        "自助设备不可用：改到柜台", "self-service devices down: served at a counter")
    if able and own not in able:
        to = able[0]
        return Decision(to, PriorityClass.REGULAR, "no_skill",
                        f"{_CHANNEL_ZH[own]}无可办理此业务的窗口：改到{_CHANNEL_ZH[to]}",
                        f"no open {_en(own)} counter serves it: served in the {_en(to)} line")
    return Decision(own, PriorityClass.REGULAR, "default", f"按业务类型：{_CHANNEL_ZH[own]}",
                    f"by business type: {_en(own)}")


def _able(business: BusinessType, load: Load) -> list[Channel]:
    """The lines where someone can serve `business` now (empty: unknown, or nobody anywhere)."""
    if load.served is None:
        return []
    able = [ch for ch in _COUNTER_CHANNELS if load.serves(ch, business.code)]
    if business.channel is Channel.SELF_SERVICE and load.devices_free > 0:
        able.insert(0, Channel.SELF_SERVICE)
    return able


_COUNTER_CHANNELS = (Channel.COUNTER, Channel.WEALTH, Channel.VIP)


_CHANNEL_ZH = {Channel.SELF_SERVICE: "自助服务", Channel.COUNTER: "柜台", Channel.WEALTH: "理财",
               Channel.VIP: "贵宾室"}


def _en(channel: Channel) -> str:
    return channel.value.replace("_", "-")


def _fmt(text: str, params: Mapping[str, object]) -> str:
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text
