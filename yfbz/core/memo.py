"""A memo that lives for one request (or one ``with memo_scope():`` block): small reference tables read
many times while one page is drawn are read once (issue 14).

The identity categories are the case in point: a model field's choices are a callable reading the
editable Category table, and Django calls it each time the field's choices are asked for, so a page
listing policy rows or audit entries made one query per row. ``remembered(key, fn)`` answers from the
memo inside a scope and calls ``fn`` every time outside one (a worker, a shell): nothing is cached
across requests, so no process can see a stale table. ``forget(key)`` drops a value when its table
changes during the request (the signal that bumps the policy revision calls it).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_memo: ContextVar[dict | None] = ContextVar("yfbz_request_memo", default=None)


@contextmanager
def memo_scope():
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def remembered(key: str, fn: Callable[[], T]) -> T:
    memo = _memo.get()
    if memo is None:
        return fn()
    if key not in memo:
        memo[key] = fn()
    return memo[key]


def forget(key: str) -> None:
    memo = _memo.get()
    if memo is not None:
        memo.pop(key, None)


class RequestMemoMiddleware:
    """Each request draws its page inside its own memo scope."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with memo_scope():
            return self.get_response(request)
