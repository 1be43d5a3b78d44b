"""`smartzone sim devices`: N kiosks, each with its own client, birth, will, heartbeats and outbox."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from device_hub.link.device import DeviceLink
from device_hub.link.mqtt import BrokerUrl
from device_hub.sim.flows import kiosk_traffic

log = logging.getLogger(__name__)


@dataclass
class SimResult:
    published: int
    devices: int
    unconfirmed: int
    ids: list[str] = field(default_factory=list)  # with SimPlan.track_ids


@dataclass(frozen=True)
class SimPlan:
    branch: str
    count: int
    events: int | None  # per device; None = until stopped
    rate: float = 0.0  # events/s per device; 0 = as fast as the broker takes them
    heartbeat_s: float = 30.0
    businesses: Sequence[str] = ("deposit",)
    device_prefix: str = "sim"
    seed: int | None = None
    track_ids: bool = False
    ca_file: Path | None = None  # for mqtts:// brokers with a private CA
    answer_commands: bool = False  # kiosks answer remote commands (device_hub.sim.responder)


def run_devices(url: BrokerUrl, plan: SimPlan, stop: threading.Event,
                on_progress: Callable[[int], None] | None = None,
                on_links: Callable[[list[DeviceLink], list], None] | None = None) -> SimResult:
    """Run the simulated kiosks until each sent its events (or stop is set); wait for every PUBACK.

    `on_links(links, responders)` is called once they are started (responders: with answer_commands).
    """
    links, responders = [], []
    for i in range(plan.count):
        if plan.answer_commands:
            from device_hub.sim.responder import responding_link

            link, responder = responding_link(url, branch=plan.branch, device=f"{plan.device_prefix}{i + 1}",
                                              track_ids=plan.track_ids)
            responders.append(responder)
        else:
            link = DeviceLink(url, branch=plan.branch, device=f"{plan.device_prefix}{i + 1}",
                              components=["cardReader", "printer", "camera"], track_ids=plan.track_ids)
        links.append(link.start())
    if on_links:
        on_links(links, responders)
    threads = [threading.Thread(target=_drive, args=(link, plan, i, stop), daemon=True,
                                name=f"sim-{link.device}") for i, link in enumerate(links)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(0.2)
        if on_progress:
            on_progress(sum(link.confirmed for link in links))
    for link in links:
        link.stop(goodbye=True, timeout=30)
    unconfirmed = sum(len(link.outbox) for link in links)
    return SimResult(published=sum(link.confirmed for link in links), devices=len(links),
                     unconfirmed=unconfirmed, ids=[i for link in links for i in link.confirmed_ids])


def _drive(link: DeviceLink, plan: SimPlan, index: int, stop: threading.Event) -> None:
    rng = random.Random(None if plan.seed is None else plan.seed * 10_007 + index)
    traffic = kiosk_traffic(rng, plan.businesses)
    started = time.monotonic()
    next_hb = started
    interval = 1 / plan.rate if plan.rate > 0 else 0.0
    sent = 0
    while not stop.is_set() and (plan.events is None or sent < plan.events):
        now = time.monotonic()
        if now >= next_hb:
            link.heartbeat(int(now - started), {"events": sent})
            next_hb = now + plan.heartbeat_s
        message_type, data, kind = next(traffic)
        link.send(message_type, data, topic_kind=kind)
        sent += 1
        if interval:
            stop.wait(max(0.0, started + sent * interval - time.monotonic()))
        else:
            link.wait_for_room(high_water=2_000, timeout=1)
