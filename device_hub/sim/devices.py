"""`smartzone sim devices`: N kiosks, each with its own client, birth, will, heartbeats and outbox."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
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
    ids: list[str] = field(default_factory=list)  # with SimPlan.track_ids: every message the kiosks produced


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
    # device id → (username, password) for brokers with per-device accounts; None: the URL's own
    credentials: Callable[[str], tuple[str, str]] | None = None
    end_to_end: bool = True  # a message leaves a kiosk's outbox when the hub confirms it (False: on PUBACK)
    confirm_timeout_s: float = 30.0  # unconfirmed messages are sent again after this


def run_devices(url: BrokerUrl, plan: SimPlan, stop: threading.Event,
                on_progress: Callable[[int], None] | None = None,
                on_links: Callable[[list[DeviceLink], list], None] | None = None) -> SimResult:
    """Run the simulated kiosks until each sent its events (or stop is set); wait for every PUBACK.

    `on_links(links, responders)` is called once they are started (responders: with answer_commands).
    """
    links, responders = [], []
    for i in range(plan.count):
        device = f"{plan.device_prefix}{i + 1}"
        dev_url = url
        if plan.credentials:
            username, password = plan.credentials(device)
            dev_url = replace(url, username=username, password=password)
        if plan.answer_commands:
            from device_hub.sim.responder import responding_link

            link, responder = responding_link(dev_url, branch=plan.branch, device=device, track_ids=plan.track_ids)
            responders.append(responder)
        else:
            link = DeviceLink(dev_url, branch=plan.branch, device=device,
                              components=["cardReader", "printer", "camera"], track_ids=plan.track_ids,
                              ca_file=plan.ca_file, end_to_end=plan.end_to_end,
                              confirm_timeout_s=plan.confirm_timeout_s)
        links.append(link.start())
    if on_links:
        on_links(links, responders)
    threads = [threading.Thread(target=_drive, args=(link, plan, i, stop, responders[i] if responders else None),
                                daemon=True, name=f"sim-{link.device}") for i, link in enumerate(links)]
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
                     unconfirmed=unconfirmed, ids=[i for link in links for i in link.sent_ids])


def _drive(link: DeviceLink, plan: SimPlan, index: int, stop: threading.Event, responder=None) -> None:
    rng = random.Random(None if plan.seed is None else plan.seed * 10_007 + index)
    if responder is not None and link.connected.wait(10):
        responder.report_components()  # after its birth, like a kiosk: the console shows every component
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
