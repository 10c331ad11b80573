"""Progress bars only for people: tqdm when stderr is a terminal, silent in logs and CI."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def stderr_is_tty() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


def progress(iterable: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """`iterable` wrapped in a tqdm bar when stderr is a TTY; otherwise unchanged (quiet)."""
    if not stderr_is_tty():
        yield from iterable
        return
    from tqdm.auto import tqdm

    yield from tqdm(iterable, desc=desc, total=total, file=sys.stderr, leave=False)
