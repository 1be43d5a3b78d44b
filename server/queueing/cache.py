"""Each branch's queue as this process last committed it, so the hub need not read it again for every batch.

Every change bumps the branch's version under its lock, so the queue committed at version v is known
exactly to the process that made it; when its next lock finds v + 1, nobody else changed the branch and the
kept queue is still true. The hub owns one `QueueCache` and passes it in; what a transaction staged is kept
only once that transaction has committed (`kept_if_committed`). Callers without a cache (the web server,
jobs) read fresh.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from server.queueing.snapshot import IssueContext, Lane, Snapshot
from szconfig.branch import BranchConfig

KEPT_BRANCHES = 5_000  # per cache, least recently changed forgotten first


class QueueCache:
    """Branch → its queue as committed; owned by one hub thread (no locks)."""

    def __init__(self, limit: int = KEPT_BRANCHES):
        self.limit = limit
        self._kept: OrderedDict[str, IssueContext] = OrderedDict()
        self._staged: dict[str, IssueContext] = {}

    def get(self, branch_id: str, cfg: BranchConfig, version: int, issuing: bool,
            now: datetime) -> IssueContext | None:
        """A copy of the branch's kept queue if it is the one committed at `version` (else None: read it)."""
        ctx = self._kept.get(branch_id)
        if ctx is None or ctx.version != version or ctx.cfg is not cfg or ctx.issuing != issuing:
            return None
        lanes = {ch: Lane(list(lane.all), list(lane.priority), list(lane.regular)) for ch, lane in ctx.lanes.items()}
        snap = Snapshot(cfg, ctx.snap.counters, ctx.snap.busy, ctx.snap.stats, now)
        if not snap.busy and now == ctx.snap.now:  # the same moment: what the counters serve is unchanged
            snap._servers = ctx.snap._servers
        kept = replace(ctx, lanes=lanes, snap=snap)
        kept._served = ctx._served  # the same counters, open or closed as they were
        kept._memo = ctx._memo
        return kept

    def stage(self, contexts: Mapping[str, IssueContext]) -> None:
        """Queues as the current transaction leaves them (they may still change until it commits)."""
        self._staged.update(contexts)

    @contextmanager
    def kept_if_committed(self) -> Iterator[QueueCache]:
        """Around one transaction: what it staged is kept when the block ends normally (after its commit),
        forgotten when it raises."""
        self._staged.clear()
        try:
            yield self
        except BaseException:
            self._staged.clear()
            raise
        for branch_id, ctx in self._staged.items():
            self._kept[branch_id] = ctx
            self._kept.move_to_end(branch_id)
        self._staged.clear()
        while len(self._kept) > self.limit:
            self._kept.popitem(last=False)
