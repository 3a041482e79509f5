"""A progress bar for long commands, on stderr so that stdout stays the command's result.

On a terminal the bar is redrawn in place (at most a few times a second); when stderr is a
file or a pipe (cron, CI, `2> log`) a plain line is written at every tenth of the way instead,
so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30
REDRAW_EVERY = 0.2  # seconds between redraws on a terminal
LINE_STEPS = 10  # plain lines: one per tenth of the way


class ProgressBar:
    """Call it with (done, total, items) as work goes by; `finish()` ends the line."""

    def __init__(self, label: str, unit: str = "rows", stream: TextIO | None = None) -> None:
        self.label, self.unit = label, unit
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.step = -1
        self.last = (0, 0, 0)
        self.written = -1  # the item count on the last plain line

    def __call__(self, done: int, total: int, items: int) -> None:
        self.last = (done, total, items)
        share = min(1.0, done / total) if total else 0.0
        if self.tty:
            now = time.monotonic()
            if now - self.drawn_at >= REDRAW_EVERY or share >= 1.0:
                self.drawn_at = now
                self.stream.write("\r" + self.bar(share, items))
                self.stream.flush()
            return
        step = int(share * LINE_STEPS)
        if step > self.step:
            self.step = step
            self.write_line(share, items)

    def write_line(self, share: float, items: int) -> None:
        self.stream.write(self.line(share, items) + "\n")
        self.stream.flush()
        self.written = items

    def bar(self, share: float, items: int) -> str:
        filled = int(share * BAR_WIDTH)
        return (
            f"{self.label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:4.0%} "
            f"{items:,} {self.unit} {self.elapsed()}"
        )

    def line(self, share: float, items: int) -> str:
        return f"{self.label}: {share:.0%} ({items:,} {self.unit}, {self.elapsed()})"

    def elapsed(self) -> str:
        seconds = int(time.monotonic() - self.started)
        return f"{seconds // 60}:{seconds % 60:02d}"

    def finish(self, complete: bool = True) -> None:
        """End the bar; a complete run shows 100% (the last bytes, such as a trailing
        newline, need no chunk of their own)."""
        done, total, items = self.last
        if complete and total and done < total:
            self(total, total, items)
        if not self.tty and complete and self.written != items:
            # Reading runs ahead of checking: the file may be all read before its last rows.
            self.write_line(1.0, items)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
