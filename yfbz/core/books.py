"""The books always add up: ``python manage.py verify_books`` (issue 10).

Each app that holds money registers its checks here in its ``AppConfig.ready()`` (claims: every cap
row equals the sum of the current decisions and one-stop lines behind it; funding: balances,
payables, payments, subsidy routes), so the command imports no domain app. A check returns its
findings as Chinese sentences; ``verify()`` runs them all and ``record()`` keeps the result
(``BooksVerification``) for /healthz and the finance officer's home page. Celery beat runs the
``core.verify_books`` task nightly (the schedule is a django-celery-beat row, data not code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

#: how many findings of one kind are named one by one (the rest are counted)
SHOWN = 20


@dataclass(frozen=True)
class Check:
    code: str
    label: str  # the kind of finding, in Chinese ("年度限额与核定不符")
    run: Callable[[], list[str]]


@dataclass
class Result:
    findings: list[tuple[str, str]] = field(default_factory=list)  # (kind label, sentence)
    counts: dict[str, int] = field(default_factory=dict)  # check code → findings
    checks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        if self.ok:
            return f"账目核对无误（{len(self.checks)}项检查）"
        kinds = {}
        for label, _ in self.findings:
            kinds[label] = kinds.get(label, 0) + 1
        return "账目核对发现问题：" + "；".join(f"{label}{n}处" for label, n in kinds.items())


CHECKS: dict[str, Check] = {}


def register_check(code: str, label: str, run: Callable[[], list[str]]) -> None:
    CHECKS[code] = Check(code, label, run)


def verify() -> Result:
    result = Result()
    for check in CHECKS.values():
        found = list(check.run())
        result.checks.append(check.code)
        result.counts[check.code] = len(found)
        result.findings.extend((check.label, text) for text in found[:SHOWN])
        if len(found) > SHOWN:
            result.findings.append((check.label, f"另有{len(found) - SHOWN}处同类问题未列出"))
    return result


def record(result: Result, *, source: str):
    from .models import BooksVerification

    return BooksVerification.objects.create(
        ok=result.ok, summary=result.summary()[:500], source=source,
        findings=[{"kind": k, "text": t} for k, t in result.findings], counts=result.counts,
    )


def last():
    from .models import BooksVerification

    return BooksVerification.objects.order_by("-ran_at", "-pk").first()
