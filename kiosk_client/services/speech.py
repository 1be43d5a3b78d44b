"""Spoken prompts, offline: espeak-ng when installed, silently nothing when not."""

from __future__ import annotations

import contextlib
import logging
import queue
import shutil
import subprocess
import threading

log = logging.getLogger(__name__)

VOICES = {"zh": "cmn", "en": "en"}


class Speaker:
    """Speaks one text at a time on its own thread; a newer prompt replaces one not yet started."""

    def __init__(self, *, enabled: bool = True, binary: str | None = None, rate: int = 140):
        self.binary = binary or shutil.which("espeak-ng") or shutil.which("espeak")
        self.enabled = enabled and self.binary is not None
        self.rate = rate
        self.spoken: list[tuple[str, str]] = []
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=1)
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
        with contextlib.suppress(queue.Empty):
            self._queue.get_nowait()  # drop a stale prompt
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait((text, lang))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            text, lang = item
            try:
                subprocess.run([self.binary, "-v", VOICES.get(lang, "en"), "-s", str(self.rate), text],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30, check=False)
            except (OSError, subprocess.SubprocessError) as err:
                log.info("speech failed (%s); prompts stay on screen only", err)

    def stop(self) -> None:
        if self._thread is not None:
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()
            self._queue.put(None)
            self._thread.join(2)
