"""Entries keyed in by hand go through maker–checker: propose, then someone else approves (and the
entry is written) or rejects. Approval re-checks everything entry_post checks, at approval time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from yfbz.core.workflow import record_start, transition
from yfbz.rules.money import money

from ..models import Account, EntryKind, EntryProposal, JournalEntry
from .errors import FundingError
from .ledger import INCOME_KINDS, entry_reverse, money_in
from .receivables import receivable_recover


def proposal_income(*, account: str, kind: str, counterpart: str, amount: Decimal, on: date, source_document: str,
                    description: str, user) -> EntryProposal:
    if kind not in INCOME_KINDS.get(account, set()):
        raise FundingError(f"「{Account.objects.get(code=account).name}」不接收「{EntryKind(kind).label}」")
    try:
        amt = money(amount)
    except (TypeError, ValueError):
        raise FundingError(f"金额「{amount}」无效") from None
    if amt <= 0:
        raise FundingError("金额应大于零")
    if not source_document.strip():
        raise FundingError("请填写原始凭据")
    cp = Account.objects.filter(code=counterpart, kind=Account.Kind.EXTERNAL).first()
    if cp is None:
        raise FundingError(f"对方单位「{counterpart}」无效")
    return _proposed(EntryProposal(kind=kind, account=Account.objects.get(code=account), counterpart=cp, amount=amt, on=on,
                                   source_document=source_document.strip(), description=description, proposed_by=user))


def _proposed(p: EntryProposal) -> EntryProposal:
    """Save a new proposal with the first row of its history (yfbz.core.workflow)."""
    with transaction.atomic():
        p.save()
        record_start(p, by=p.proposed_by, reason="录入待审核")
    return p


def proposal_reversal(*, entry_id: int, on: date, reason: str, user) -> EntryProposal:
    """Ask for an entry to be reversed. Asked once: a second request for the same entry (a double click, a second
    tab) is refused while the first waits, and so is one for an entry already reversed or itself a reversal."""
    if not reason.strip():
        raise FundingError("请填写冲销原因")
    with transaction.atomic():
        entry = JournalEntry.objects.select_for_update().get(pk=entry_id)  # two requests at once: one waits
        if entry.kind == EntryKind.REVERSAL:
            raise FundingError("冲销凭证不能再冲销；如需更正请重新登记")
        if JournalEntry.objects.filter(reverses=entry).exists():
            raise FundingError(f"凭证 {entry.number} 已冲销过")
        if EntryProposal.objects.filter(reverses=entry, status=EntryProposal.Status.PENDING).exists():
            raise FundingError(f"凭证 {entry.number} 已有待审核的冲销，不能重复提出")
        return _proposed(EntryProposal(kind=EntryKind.REVERSAL, reverses=entry, on=on, source_document=f"冲销{entry.number}",
                                       description=reason.strip(), proposed_by=user))


def proposal_recovery(*, receivable_id: int, amount: Decimal, on: date, source_document: str, user) -> EntryProposal:
    """Money recovered on a receivable, to be booked back once someone else approves."""
    from ..models import Receivable

    rec = Receivable.objects.get(pk=receivable_id)
    try:
        amt = money(amount)
    except (TypeError, ValueError):
        raise FundingError(f"金额「{amount}」无效") from None
    if amt <= 0 or amt > rec.outstanding:
        raise FundingError(f"追回金额应大于零且不超过尚未追回的 {rec.outstanding} 元")
    if not source_document.strip():
        raise FundingError("请填写原始凭据（缴款书号/银行回单号）")
    return _proposed(EntryProposal(kind=EntryKind.RECOVERY, receivable=rec, amount=amt, on=on,
                                   source_document=source_document.strip(), description=f"追回 {rec.debtor_name}"[:200],
                                   proposed_by=user))


def proposal_decide(*, proposal_id: int, approve: bool, user, note: str = "") -> EntryProposal:
    with transaction.atomic():
        p = EntryProposal.objects.select_for_update().get(pk=proposal_id)
        if p.status != EntryProposal.Status.PENDING:
            raise FundingError(f"该凭证已{p.get_status_display()}，不能再审核")
        if p.proposed_by_id == user.pk:
            raise FundingError("录入人与审核人不能是同一人")
        if approve:
            if p.kind == EntryKind.RECOVERY and p.receivable_id:
                receivable_recover(receivable_id=p.receivable_id, amount=p.amount, on=p.on, source_document=p.source_document,
                                   entered_by=p.proposed_by, approved_by=user)
                p.entry = JournalEntry.objects.filter(receivable_id=p.receivable_id).order_by("-pk").first()
            elif p.kind == EntryKind.REVERSAL:
                p.entry = entry_reverse(entry_id=p.reverses_id, on=p.on, reason=p.description, entered_by=p.proposed_by, approved_by=user)
            else:
                p.entry = money_in(account=p.account.code, kind=p.kind, amount=p.amount, on=p.on, counterpart=p.counterpart.code,
                                   source_document=p.source_document, description=p.description, entered_by=p.proposed_by,
                                   approved_by=user)
            to = EntryProposal.Status.APPROVED
        else:
            to = EntryProposal.Status.REJECTED
        p.decided_by, p.note = user, note
        transition(p, to, by=user, reason=note, update_fields=["entry", "decided_by", "note"])
    return p
