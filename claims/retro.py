"""Claims' side of retroactive identity changes (应退尽退、应补尽补, docs/claims.md).

A confirmed roster that ends or starts an identity on a date already past records a
``beneficiaries.RetroactiveChange``. This module says what such a change reaches — every current
decision in its period: hand-settled bills **and** one-stop settlement lines — and estimates the
difference by deciding each again on today's identities (nothing is saved). ``ClaimsConfig.ready``
registers ``reach`` with ``beneficiaries.retro``.

Which decisions a change reaches:
- an identity ended earlier reaches the decisions and lines that used that identity (for the
  assistance or the veterans' subsidy): ending an identity nobody used changes nothing;
- an identity started earlier (or a corrected period) reaches every decision and line of the
  person in the period, refusals included: the identity may now qualify them.
Bills still being entered, bills a reviewer refused with a written reason and duplicate lines are
left out (they are decided afresh, refused on their papers, or never paid).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, Sum

from beneficiaries.retro import Reach
from yfbz.core.display import money

from . import caps
from .models import ZERO, Adjustment, Bill, Decision, SettlementLine

S = Bill.Status
REACHABLE = (S.DECIDED, S.APPROVED, S.PAID, S.REFUSED)
CHUNK = 5000


def _in_period(change, on) -> bool:
    return change.period_start <= on <= change.period_end


def _uses(change, *codes) -> bool:
    return change.category.code in codes


def _ended(change) -> bool:
    return change.kind == "ENDED_EARLIER"


def decisions_in_period(changes) -> dict[int, list[Decision]]:
    """change id → the current decisions it reaches (see the module's docstring)."""
    changes = list(changes)
    by_person = defaultdict(list)
    for c in changes:
        by_person[c.person_id].append(c)
    out: dict[int, list[Decision]] = {c.pk: [] for c in changes}
    if not changes:
        return out
    lo = min(c.period_start for c in changes)
    hi = max(c.period_end for c in changes)
    pids = sorted(by_person)
    for i in range(0, len(pids), CHUNK):
        qs = (
            Decision.objects.filter(person_id__in=pids[i : i + CHUNK], is_current=True, settled_on__gte=lo, settled_on__lte=hi,
                                    bill__status__in=REACHABLE)
            .select_related("bill", "bill__institution", "person")
            .order_by("settled_on", "pk")
        )
        for d in qs:
            if d.bill.status == S.REFUSED and d.refusal_reason:
                continue  # refused by the reviewer on its papers: an identity does not change that
            for c in by_person[d.person_id]:
                if not _in_period(c, d.settled_on):
                    continue
                if _ended(c) and not _uses(c, d.category, d.youfu_category) and d.retroactive_change_id != c.pk:
                    continue
                out[c.pk].append(d)
    return out


def lines_in_period(changes) -> dict[int, list[SettlementLine]]:
    """change id → the one-stop settlement lines it reaches (never duplicates or unknown people)."""
    changes = list(changes)
    by_person = defaultdict(list)
    for c in changes:
        by_person[c.person_id].append(c)
    out: dict[int, list[SettlementLine]] = {c.pk: [] for c in changes}
    if not changes:
        return out
    lo = min(c.period_start for c in changes)
    hi = max(c.period_end for c in changes)
    pids = sorted(by_person)
    for i in range(0, len(pids), CHUNK):
        qs = (
            SettlementLine.objects.filter(person_id__in=pids[i : i + CHUNK], duplicate=False, settled_on__gte=lo,
                                          settled_on__lte=hi)
            .select_related("institution", "settlement_month", "person")
            .order_by("settled_on", "pk")
        )
        for line in qs:
            for c in by_person[line.person_id]:
                if not _in_period(c, line.settled_on):
                    continue
                reopened_here = line.retroactive_change_id == c.pk
                if _ended(c) and not reopened_here and not (_uses(c, line.category) and (line.payable or line.pending)):
                    continue
                out[c.pk].append(line)
    return out


#: what a line counts in its person's cap and is paid to the institution: agreed, or settled (claims.caps)
counted = caps.line_usage


def _used_without(person_id: int, year: int, scheme: str, amount: Decimal, extra: dict | None = None) -> dict[str, Decimal]:
    used = caps.read(person_id, year)
    for k, v in (extra or {}).items():
        used[k] = used.get(k, ZERO) - v
    if scheme and amount:
        used[scheme] = used.get(scheme, ZERO) - amount
    return used


def preview_decision(d: Decision) -> tuple[Decimal, Decimal]:
    """(assistance, subsidy) the bill would get now, on today's identities, its own use taken out of the caps."""
    from .services import engine_decide

    own = caps.decision_usage(d) if d.bill.status in caps.COUNTING else {}
    used = _used_without(d.person_id, d.year, "", ZERO, own)
    ed, _pooling, _policy = engine_decide(bill=d.bill, used=used)
    return ed.amount, ed.youfu.amount


def preview_line(line: SettlementLine):
    """The engine's decision on a one-stop line now, its own counted amount taken out of the caps."""
    from yfbz.policy.inputs import bill_for_engine, decide_bill, person_for_engine

    used = _used_without(line.person_id, line.settled_on.year, line.scheme, counted(line))
    d, _ = decide_bill(person_for_engine(line.person), bill_for_engine(line, ref=line.settlement_no), used)
    return d


def reach(changes) -> dict[int, Reach]:
    """What each change reaches in claims: decisions and lines, the money decided, the estimated difference."""
    from .services import ClaimsError

    decisions = decisions_in_period(changes)
    lines = lines_in_period(changes)
    out = {}
    for c in changes:
        r = Reach()
        for d in decisions[c.pk]:
            r.decisions += 1
            r.decided += d.assistance + d.youfu_subsidy
            try:
                a, y = preview_decision(d)
                r.estimate += (a - d.assistance) + (y - d.youfu_subsidy)
            except ClaimsError:
                pass  # no policy for that date: the re-decision will say so
        for line in lines[c.pk]:
            r.lines += 1
            r.decided += counted(line)
            if not line.pending:
                r.estimate += preview_line(line).amount - counted(line)
        out[c.pk] = r
    return out


# --- re-deciding what a change reaches ----------------------------------------------------------------
@dataclass
class Redecided:
    decisions: list = field(default_factory=list)  # new decisions, waiting for a reviewer
    lines_reopened: list = field(default_factory=list)  # lines disputed again, waiting for a reviewer
    lines_unchanged: int = 0
    skipped: int = 0  # already re-decided for this change (a second press), or decided after it

    @property
    def message(self) -> str:
        parts = []
        if self.decisions:
            parts.append(f"重新核定手工报销{len(self.decisions)}份")
        if self.lines_reopened:
            parts.append(f"一站式结算{len(self.lines_reopened)}笔重新列为异议")
        if self.lines_unchanged:
            parts.append(f"一站式结算{self.lines_unchanged}笔金额不变")
        if not parts:
            return "没有需要重新核定的救助决定" + (f"（{self.skipped}份已为此重新核定，待审批或已审批）" if self.skipped else "")
        return "，".join(parts) + "，请审核人员审批（多付部分审批后转追回，少付部分补发）"


def change_reason(change) -> str:
    return (
        f"身份追溯变化：{change.category.name}{change.get_kind_display()}"
        f"（影响期间{change.period_start:%Y-%m-%d}至{change.period_end:%Y-%m-%d}，"
        f"{change.source_text}）"
    )


def _lock_change(change_id: int):
    from beneficiaries.models import RetroactiveChange

    return (
        RetroactiveChange.objects.select_for_update(of=("self",))
        .select_related("category", "roster_upload", "roster_upload__department", "correction", "person")
        .get(pk=change_id)
    )


def change_redecide(*, change_id: int, user) -> Redecided:
    """Decide again, on today's identities, every current decision the change reaches: hand bills get
    a new decision (approved by a reviewer as usual; the change is reviewed once all are approved),
    one-stop lines whose amount changes become disputed lines again with the reason.

    Idempotent: the change row is locked, and a decision already re-decided for this change (waiting
    for approval or approved), or decided after the roster took effect, is not decided again — a
    second press changes nothing."""
    from django.db import transaction

    from beneficiaries.models import RetroactiveChange
    from beneficiaries.services import retroactive_change_set_status

    from .services import ClaimsError, bill_decide
    from .settlement import settlement_line_recheck

    RS = RetroactiveChange.Status
    out = Redecided()
    with transaction.atomic():
        change = _lock_change(change_id)
        if change.status not in RetroactiveChange.WAITING:
            raise ClaimsError(f"该追溯变化{change.get_status_display()}，不再重新核定。")
        reason = change_reason(change)
        for d in decisions_in_period([change])[change.pk]:
            if d.retroactive_change_id == change.pk or d.decided_at >= change.created_at:
                out.skipped += 1
                continue
            out.decisions.append(bill_decide(bill_id=d.bill_id, user=user, reason=reason, retroactive_change=change))
        for line in lines_in_period([change])[change.pk]:
            if line.retroactive_change_id == change.pk:
                out.skipped += 1
                continue
            if settlement_line_recheck(line_id=line.pk, change=change, user=user, reason=reason):
                out.lines_reopened.append(line)
            else:
                out.lines_unchanged += 1
        if change.status == RS.OPEN and (out.decisions or out.lines_reopened):
            retroactive_change_set_status(change=change, to=RS.REDECIDING, by=user, note=out.message)
        change_advance(change_id=change.pk, user=user, locked=change)
    return out


def change_waiting_items(change) -> tuple[int, int]:
    """(re-decisions not yet reviewed, reopened lines not yet settled) of a change."""
    pending_decisions = Decision.objects.filter(retroactive_change=change, is_current=True, reviewed_at__isnull=True).count()
    # a re-decision the reviewer sent back: its bill waits to be decided again
    returned = (
        Bill.objects.filter(status=S.ENTERED, decisions__retroactive_change=change)
        .exclude(decisions__is_current=True).distinct().count()
    )
    lines = SettlementLine.objects.filter(retroactive_change=change, outcome=SettlementLine.Outcome.DISPUTED,
                                          resolution="").count()
    return pending_decisions + returned, lines


def change_advance(*, change_id: int, user, locked=None) -> bool:
    """Once nothing of a change waits (every re-decision approved or refused, every reopened line
    settled), the change is REVIEWED, by whoever made the last of those moves. Returns whether it moved."""
    from beneficiaries.models import RetroactiveChange
    from beneficiaries.services import retroactive_change_set_status

    RS = RetroactiveChange.Status
    change = locked or _lock_change(change_id)
    if change.status not in RetroactiveChange.WAITING:
        return False
    decisions, lines = change_waiting_items(change)
    if decisions or lines:
        return False
    done = Decision.objects.filter(retroactive_change=change).count()
    settled = SettlementLine.objects.filter(retroactive_change=change).count()
    if change.status == RS.OPEN and not (done or settled):
        return False  # nothing re-decided yet
    recovered = Adjustment.objects.filter(
        Q(decision__retroactive_change=change) | Q(settlement_line__retroactive_change=change), kind=Adjustment.Kind.RECOVERY
    ).aggregate(s=Sum("amount"))["s"] or ZERO
    topped = Adjustment.objects.filter(
        Q(decision__retroactive_change=change) | Q(settlement_line__retroactive_change=change), kind=Adjustment.Kind.TOP_UP
    ).aggregate(s=Sum("amount"))["s"] or ZERO
    note = f"重新核定{done}份、一站式结算重新审核{settled}笔，均已审批；追回{money(recovered)}元，补发{money(topped)}元"
    retroactive_change_set_status(change=change, to=RS.REVIEWED, by=user, note=note)
    return True
