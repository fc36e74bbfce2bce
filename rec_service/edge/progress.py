"""Stage-by-stage progress of a long job (train, a retrain followed from the CLI).

On a terminal: a live line drawn by rich, redrawn twice a second: the stage's number and name,
a bar of the share done, the time elapsed and, once a share is done, the time left at the pace
so far. Anywhere else (CI, containers, a pipe): one plain line per stage, with the time the last
one took, and no control characters, so logs stay readable. Spark's own console progress bar
is off in every session (spark_store/session.py), so nothing else draws on the line.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

REDRAW_PER_S = 2


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class _Times(ProgressColumn):
    """Elapsed, and the time left at the pace so far (the job's, not rich's recent speed: a
    stage's share is known only when it ends)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        done = task.completed
        left = f", ~{clock(elapsed / done - elapsed)} left" if done > 0 else ""
        return Text(f"{clock(elapsed)} elapsed{left}")


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
        self._bar: Progress | None = None
        if self.terminal:
            self._bar = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(bar_width=24),
                TextColumn("{task.percentage:>3.0f}%"),
                _Times(),
                console=Console(file=out, force_terminal=True, highlight=False),
                refresh_per_second=REDRAW_PER_S,
                transient=True,  # the finish line replaces it
            )
            self._task = self._bar.add_task(self._prefix(), total=1.0)
            self._bar.start()

    def stage(self, name: str, done: float | None = None) -> None:
        with self._lock:
            now = time.monotonic()
            took = now - self._stage_started
            previous = self.current
            self.current, self._stage_started = name, now
            self.number = self.stages.index(name) + 1 if name in self.stages else self.number + 1
            self.done = (self.number - 1) / len(self.stages) if done is None else done
            if self._bar is not None:
                description = f"{self._prefix()}[{self.number}/{len(self.stages)}] {name}"
                self._bar.update(self._task, description=description, completed=self.done)
                self._bar.refresh()
            else:
                after = f" ({previous} took {took:.1f} s)" if previous else ""
                self.out.write(f"{self._prefix()}stage {self.number}/{len(self.stages)}: "
                               f"{name}{after}\n")  # fmt: skip
                self.out.flush()

    def finish(self, outcome: str = "done") -> None:
        if self._bar is not None:
            self._bar.stop()
        with self._lock:
            now = time.monotonic()
            last = (
                f", {self.current} took {now - self._stage_started:.1f} s" if self.current else ""
            )
            self.out.write(f"{self._prefix()}{outcome} in {now - self.started:.1f} s{last}\n")
            self.out.flush()

    def _prefix(self) -> str:
        return f"{self.title}: " if self.title else ""
