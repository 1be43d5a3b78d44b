"""Spoken prompts and calls, offline: espeak-ng when installed, silently nothing when not."""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

VOICES = {"zh": "cmn", "en": "en"}
Utterance = tuple[str, str]  # (text, lang)
Backend = Callable[[str, str], None]  # speaks (text, lang) and returns when done


class SpeechQueue:
    """What is still to be said, oldest first (pure; the Speaker locks around it).

    `latest_only` (the kiosk's prompts): a newer prompt replaces those not yet started, since only the
    current screen matters. Otherwise (the lobby's calls): nothing is ever dropped; only an exact repeat of
    an utterance still waiting is coalesced into it.
    """

    def __init__(self, *, latest_only: bool = False) -> None:
        self.latest_only = latest_only
        self._items: deque[Utterance] = deque()

    def push(self, item: Utterance) -> bool:
        """Queue item; False when it was coalesced into the same utterance still waiting."""
        if self.latest_only:
            self._items.clear()
        elif item in self._items:
            return False
        self._items.append(item)
        return True

    def pop(self) -> Utterance | None:
        return self._items.popleft() if self._items else None

    def __len__(self) -> int:
        return len(self._items)


def espeak(binary: str, rate: int) -> Backend:
    """The espeak-ng backend: one process per utterance, at most 30 s."""

    def speak(text: str, lang: str) -> None:
        subprocess.run([binary, "-v", VOICES.get(lang, "en"), "-s", str(rate), text],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30, check=False)

    return speak


class Speaker:
    """Speaks one text at a time on its own thread, in the order queued; `say` never blocks the caller.

    `backend` speaks one utterance (espeak-ng by default; tests fake it at this boundary).
    """

    def __init__(self, *, enabled: bool = True, binary: str | None = None, rate: int = 140,
                 latest_only: bool = True, backend: Backend | None = None):
        self.binary = binary or shutil.which("espeak-ng") or shutil.which("espeak")
        self.backend = backend or (espeak(self.binary, rate) if self.binary else None)
        self.enabled = enabled and self.backend is not None
        self.rate = rate
        self.spoken: list[tuple[str, str]] = []  # (lang, text) asked for, newest last (diagnostics and tests)
        self._queue = SpeechQueue(latest_only=latest_only)
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> Speaker:
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="speech", daemon=True)
            self._thread.start()
        return self

    def say(self, text: str, lang: str) -> None:
        """Queue text; never blocks the caller."""
        self.spoken.append((lang, text))
        del self.spoken[:-50]
        if not self.enabled or not text:
            return
        with self._wake:
            if self._queue.push((text, lang)):
                self._wake.notify()

    @property
    def latest_only(self) -> bool:
        return self._queue.latest_only

    def pending(self) -> int:
        with self._wake:
            return len(self._queue)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and not len(self._queue):
                    self._wake.wait()
                if self._stopping:
                    return
                item = self._queue.pop()
            assert item is not None and self.backend is not None
            try:
                self.backend(*item)
            except (OSError, subprocess.SubprocessError) as err:
                log.info("speech failed (%s); prompts stay on screen only", err)

    def stop(self) -> None:
        if self._thread is not None:
            with self._wake:
                self._stopping = True
                self._wake.notify()
            self._thread.join(2)
