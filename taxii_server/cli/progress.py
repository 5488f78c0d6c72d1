"""Progress of the long commands (`submit` of many files, `convert` of directories, `export`/`import`/`migrate`),
always on standard error so standard output stays the command's data (and `--json` stays parseable).

On a terminal: a rich progress bar that disappears when the command ends. Anywhere else (a pipe, a log file,
CI): nothing at all — the output is the command's own plain lines, and standard error carries only problems,
one line each, as every command promises.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO


class Step(Protocol):
    def __call__(self, name: str, total: int | None = None) -> None:
        """Item `name` starts; `total` corrects the number of items when it becomes known."""


def _nothing(name: str, total: int | None = None) -> None:
    pass


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress(label: str, total: int | None = None, stream: TextIO | None = None) -> Iterator[Step]:
    """A `step(name)` to call as each item is started; `total` None when it is not known in advance."""
    out = stream if stream is not None else sys.stderr
    if not is_terminal(out):
        yield _nothing  # a pipe or a log gets only the command's own lines: stderr stays for problems
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[item]}"))
    with Progress(*columns, console=Console(file=out), transient=True) as bar:
        task = bar.add_task(label, total=total, item="")
        started = False

        def advance(name: str, total: int | None = None) -> None:
            nonlocal started
            if total is not None:
                bar.update(task, total=total)
            bar.update(task, advance=1 if started else 0, item=_printable(name))
            started = True

        yield advance
        bar.update(task, advance=1 if started else 0)


def _printable(name: str) -> str:
    """A file or stream name without control or bidirectional characters (they could rewrite the line)."""
    return "".join(ch if ch.isprintable() and ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                   else "?" for ch in name)
