"""Stage-by-stage progress of a long job (train, a retrain followed from the CLI).

On a terminal: one line redrawn in place, twice a second: the stage's number and name, a bar
of the share done, the time elapsed and, once a share is done, the time left at the pace so
far. Anywhere else (CI, containers, a pipe): one plain line per stage, with the time the last
one took, and no control characters, so logs stay readable. Spark's own console progress bar
is off in every session (spark_store/session.py), so nothing else draws on the line.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

BAR_WIDTH = 24
REDRAW_S = 0.5


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class StageProgress:
    """Progress over a known list of stages. `stage(name)` starts one; `finish()` ends the job.

    `done` is the share of the job finished (0-1); by default each finished stage counts
    equally, and `stage(name, done=...)` gives a better share where the caller knows one (a
    retrain's previous stage times)."""

    def __init__(self, stages: list[str], out: TextIO, title: str = "") -> None:
        self.stages, self.out, self.title = stages, out, title
        self.terminal = out.isatty()
        self.started = self._stage_started = time.monotonic()
        self.current = ""
        self.number = 0
        self.done = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if self.terminal:
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()

    def stage(self, name: str, done: float | None = None) -> None:
        with self._lock:
            now = time.monotonic()
            took = now - self._stage_started
            previous = self.current
            self.current, self._stage_started = name, now
            self.number = self.stages.index(name) + 1 if name in self.stages else self.number + 1
            self.done = (self.number - 1) / len(self.stages) if done is None else done
            if self.terminal:
                self._draw()
            else:
                after = f" ({previous} took {took:.1f} s)" if previous else ""
                self.out.write(f"{self._prefix()}stage {self.number}/{len(self.stages)}: "
                               f"{name}{after}\n")  # fmt: skip
                self.out.flush()

    def finish(self, outcome: str = "done") -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            now = time.monotonic()
            last = (
                f", {self.current} took {now - self._stage_started:.1f} s" if self.current else ""
            )
            line = f"{self._prefix()}{outcome} in {now - self.started:.1f} s{last}"
            self.out.write(("\r\x1b[K" + line + "\n") if self.terminal else line + "\n")
            self.out.flush()

    def _prefix(self) -> str:
        return f"{self.title}: " if self.title else ""

    def _tick(self) -> None:
        while not self._stop.wait(REDRAW_S):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        elapsed = time.monotonic() - self.started
        filled = round(self.done * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        left = f", ~{clock(elapsed / self.done - elapsed)} left" if self.done > 0 else ""
        line = (
            f"{self._prefix()}[{self.number}/{len(self.stages)}] {self.current} "
            f"[{bar}] {self.done:4.0%} {clock(elapsed)} elapsed{left}"
        )
        self.out.write("\r\x1b[K" + line)
        self.out.flush()
