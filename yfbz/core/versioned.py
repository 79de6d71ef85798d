"""Figures computed once per change of what they are computed from (issue 14).

Some statistics read every row of a big table each time they are shown: the identity changes of a year
count every identity recorded in it (1.2 million in a district's first year: 0.6 s of SQL a view). Their
inputs change rarely — a roster confirmed, a correction confirmed, history loaded — so the figure is kept
in the cache (Redis in production) under a key made of

- what is asked, including the SQL of the user's scope (two users who see different rows never share
  an entry), and
- a **version**: small indexed reads of the inputs' high-water marks (the newest identity, the newest
  confirmation …) that change whenever the figure could,

so a hit is exact, not merely recent. ``ttl`` bounds an entry's life anyway (a change of scope data the
version does not name, e.g. a town moved between districts, shows within that time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.core.cache import cache

TTL = 300


def sql_of(qs) -> str:
    """A queryset's SQL as part of a key; a scope that can match nothing (``.none()``) has no SQL."""
    from django.core.exceptions import EmptyResultSet

    try:
        return str(qs.query)
    except EmptyResultSet:
        return "(nothing)"


def key_of(name: str, parts: tuple) -> str:
    return f"yfbz:v1:{name}:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def cached(name: str, asked: tuple, version: tuple, compute: Callable[[], Any], *, ttl: int = TTL) -> Any:
    """``compute()`` once per (``asked``, ``version``); later calls with both unchanged read the cache."""
    key = key_of(name, (asked, version))
    hit = cache.get(key)
    if hit is not None:
        return hit
    value = compute()
    cache.set(key, value, ttl)
    return value
