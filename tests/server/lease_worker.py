"""A process that runs the leased scheduler with one short test job, until SIGTERM (tests/server/test_jobs.py).

    python -m tests.server.lease_worker DB_URL HOLDER TTL_S RENEW_S
"""

from __future__ import annotations

import signal
import sys
import threading
import time

from server.db import make_engine, session_factory
from server.scheduler import Job, LeasedScheduler

EVERY_S = 0.1
WORK_S = 0.03


def tick(_factory, _now) -> None:
    time.sleep(WORK_S)  # long enough that two holders would overlap


def main() -> None:
    url, holder, ttl_s, renew_s = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    engine = make_engine(url)
    scheduler = LeasedScheduler(session_factory(engine), [Job("test.tick", tick, every_s=EVERY_S)], ttl_s=ttl_s,
                                renew_s=renew_s, holder=holder).start()
    print("started", flush=True)
    stop.wait()
    scheduler.stop()
    engine.dispose()


if __name__ == "__main__":
    main()
