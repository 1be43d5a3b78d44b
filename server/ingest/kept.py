"""What one hub process keeps between its batches: its own committed changes, so it need not read them back.

The hub owns one `Kept` and passes it to `store_batch` and `run_deferred`, and from there to every handler;
`if_committed()` around a transaction keeps what that transaction staged only once it has committed. A
caller without one (tests, tools) gets an empty `Kept`: everything is read from the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from server.queueing.cache import QueueCache


@dataclass
class Kept:
    queues: QueueCache = field(default_factory=QueueCache)  # each branch's queue as this process committed it

    @contextmanager
    def if_committed(self) -> Iterator[Kept]:
        """Around one transaction: what it staged is kept if the block ends normally, forgotten if it raises."""
        with self.queues.kept_if_committed():
            yield self
