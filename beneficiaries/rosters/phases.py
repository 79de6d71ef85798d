"""Where a roster's time goes: wall-clock seconds per phase of the last check and apply in this
process (bench/rosters.py prints them; docs/rosters.md "Speed"). Costs two clock reads per row at
most; nothing reads these figures in production.

Phases: 读取 reading the file (opening it and taking each row), 校验 validating rows, 比对 comparing
them with the open identities, 写入 storing the checked rows, 提交 committing (PostgreSQL checks the
deferred foreign keys then), and in the apply 人员 / 身份 / 追溯 / 历史 (people, identities,
retroactive changes, status history and audit rows).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

TOTALS: dict[str, float] = {}
clock = time.perf_counter


def reset() -> None:
    TOTALS.clear()


def add(name: str, seconds: float) -> None:
    TOTALS[name] = TOTALS.get(name, 0.0) + seconds


@contextmanager
def phase(name: str):
    start = clock()
    try:
        yield
    finally:
        add(name, clock() - start)


def timed(name: str, items: Iterable) -> Iterator:
    """Yield from ``items``, adding the time spent producing each item to ``name``."""
    it = iter(items)
    spent = 0.0
    try:
        while True:
            start = clock()
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                spent += clock() - start
            yield item
    finally:
        add(name, spent)


def snapshot() -> dict[str, float]:
    return dict(TOTALS)
