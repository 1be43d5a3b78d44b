"""Flow routing (pure): which channel serves a request, which rule decided, and why.

`route()` walks the branch's rules in order; the first whose conditions all hold decides. Without a
matching rule the business's own channel serves it — except that a self-service business never goes
to a self-service zone whose devices are all down (built-in rule `devices_down`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from smartzone.config.branch import BusinessType, Channel, PriorityClass, RoutingRule, Tier


@dataclass(frozen=True)
class RouteRequest:
    """What is known about a customer asking for a ticket."""

    business: str
    tier: Tier = Tier.REGULAR
    elderly: bool = False
    appointment: bool = False


@dataclass(frozen=True)
class Load:
    """The branch right now: waiting tickets per channel and self-service devices online."""

    waiting: Mapping[Channel, int] = field(default_factory=dict)
    devices_free: int = 0


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
    for rule in rules:
        target = rule.route_to or business.channel
        if target is Channel.SELF_SERVICE and load.devices_free == 0:
            continue  # never send anyone to a zone whose devices are down
        if _matches(rule, req, business, load, target):
            params["waiting"] = load.waiting.get(target, 0)
            return Decision(target, rule.priority, rule.id, _fmt(rule.reason.zh, params),
                            _fmt(rule.reason.en, params))
    if business.channel is Channel.SELF_SERVICE and load.devices_free == 0:
        return Decision(Channel.COUNTER, PriorityClass.REGULAR, "devices_down",
                        "自助设备不可用：改到柜台", "self-service devices down: served at a counter")
    return Decision(business.channel, PriorityClass.REGULAR, "default",
                    f"按业务类型：{_CHANNEL_ZH[business.channel]}",
                    f"by business type: {business.channel.value.replace('_', '-')}")


_CHANNEL_ZH = {Channel.SELF_SERVICE: "自助服务", Channel.COUNTER: "柜台", Channel.WEALTH: "理财",
               Channel.VIP: "贵宾室"}


def _fmt(text: str, params: Mapping[str, object]) -> str:
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text
