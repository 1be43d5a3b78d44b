"""Several hub workers, each in its own process, sharing one subscription: every core at work.

One hub process is bound by Python's GIL to about one core. Each worker here is a whole hub (its
own MQTT session on `$share/<group>/…`, its own database connections); the broker gives each
message to one of them, and every worker is idempotent, so any worker may take any message. The
parent only supervises: it restarts a worker that dies (its session resumes and the broker
redelivers what it had not acknowledged) and, on SIGTERM/SIGINT, lets each worker drain, commit,
acknowledge and stop.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 60  # a worker commits and acknowledges what it holds; then it is killed


def run_workers(count: int, work: Callable[[int], int], stop: threading.Event, *,
                restart_delay_s: float = 1.0, on_started: Callable[[], None] | None = None) -> int:
    """Run `work(index)` in `count` processes until `stop` is set; returns the worst exit code.

    `work` runs in a forked child: it must make its own database engine and MQTT client and
    install its own signal handlers (it gets SIGTERM from here, SIGINT from the terminal, and
    SIGTERM from itself when the parent is gone). Fork from a process whose other threads hold no
    database connection (SQLite is not fork-safe); `on_started` runs once all workers are started,
    the moment such threads may begin."""
    ctx = multiprocessing.get_context("fork")

    def start(index: int) -> multiprocessing.process.BaseProcess:
        p = ctx.Process(target=_child, args=(work, index), name=f"hub-worker-{index}", daemon=False)
        # a child inherits the parent's objects: frozen, its collector never walks (and so copies) them;
        # from a large parent (the benchmark's) two workers drained 14k instead of 18k events/s without
        gc.freeze()
        try:
            p.start()
        finally:
            gc.unfreeze()
        log.info("hub worker %d started (pid %d)", index, p.pid)
        return p

    procs = {i: start(i) for i in range(count)}
    if on_started:
        on_started()
    while not stop.wait(0.5):
        for i, p in procs.items():
            if not p.is_alive() and not stop.is_set():
                log.error("hub worker %d exited with code %s; restarting it in %.1f s", i, p.exitcode,
                          restart_delay_s)
                if stop.wait(restart_delay_s):
                    break
                procs[i] = start(i)
    for p in procs.values():
        if p.is_alive():
            p.terminate()  # SIGTERM: the worker drains, commits, acknowledges and disconnects
    worst = 0
    for i, p in procs.items():
        p.join(STOP_TIMEOUT_S)
        if p.is_alive():
            log.error("hub worker %d did not stop within %d s; killing it (what it had not acknowledged "
                      "is redelivered)", i, STOP_TIMEOUT_S)
            p.kill()
            p.join()
        worst = max(worst, abs(p.exitcode or 0))
    return worst


def _child(work: Callable[[int], int], index: int) -> None:
    parent = os.getppid()

    def orphaned() -> None:  # the supervisor was killed: stop as on SIGTERM (drain, commit, acknowledge)
        while os.getppid() == parent:
            time.sleep(1.0)
        log.warning("hub worker %d: the supervising process is gone; stopping", index)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=orphaned, name="orphan-watch", daemon=True).start()
    raise SystemExit(work(index))
