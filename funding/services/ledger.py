"""The double-entry ledger (POLICY.md §12; 渝北府办发〔2025〕2号 四).

Every movement is one JournalEntry whose lines sum to zero. Locks, always in this order:
the Period row of the entry's month (so a month cannot be closed while an entry is being
written into it, and entry numbers are sequential), then the bureau's own accounts by id. The
balance check happens after the account locks, so two payments racing for the last money are
serialised: the second sees the first's lines and is refused.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from yfbz.core.display import money as display_money
from yfbz.rules.money import money

from ..models import Account, EntryKind, EntryProposal, Fund, JournalEntry, JournalLine, Period
from .errors import FundingError

ZERO = Decimal("0.00")

# What each own account may receive from outside (POLICY.md §12 "money in"). Shapes, not figures.
INCOME_KINDS: dict[str, set[str]] = {
    "SPECIAL": {EntryKind.INCOME_CENTRAL, EntryKind.INCOME_CITY, EntryKind.INCOME_DISTRICT, EntryKind.INTEREST},
    "EXPENDITURE": {EntryKind.INTEREST, EntryKind.AUDIT_REFUND, EntryKind.RECOVERY},
    "YOUFU": {EntryKind.INCOME_DISTRICT, EntryKind.INCOME_CITY, EntryKind.DONATION, EntryKind.RECOVERY},
}


def _account(code: str) -> Account:
    try:
        return Account.objects.get(code=code)
    except Account.DoesNotExist:
        raise FundingError(f"账户代码「{code}」不存在") from None


def _period_locked(on: date) -> Period:
    Period.objects.get_or_create(year=on.year, month=on.month)
    return Period.objects.select_for_update().get(year=on.year, month=on.month)


def entry_post(
    *,
    on: date,
    kind: str,
    lines: list[tuple[str, Decimal]],
    counterpart: str,
    source_document: str,
    description: str,
    entered_by,
    approved_by,
    fund_request=None,
    payment_batch=None,
    receivable=None,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Write one journal entry. Refused (nothing written) when: a line is not money or is zero, the
    lines do not sum to zero, the same person entered and approved it, it touches both funds, the
    month is closed, or an own account would go below zero."""
    if not source_document or not source_document.strip():
        raise FundingError("请填写原始凭据（如拨款文件号、银行回单号）")
    if entered_by is None or approved_by is None:
        raise FundingError("凭证须有录入人和审核人")
    if entered_by.pk == approved_by.pk:
        raise FundingError("录入人与审核人不能是同一人")
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for i, (code, amount) in enumerate(lines, start=1):
        if isinstance(amount, float):
            raise FundingError(f"第{i}行金额不能是浮点数")
        try:
            amt = money(amount)
        except (TypeError, ValueError):
            raise FundingError(f"第{i}行金额「{amount}」不是有效金额") from None
        if amt == ZERO:
            raise FundingError(f"第{i}行金额为零")
        amounts[code] += amt
    if sum(amounts.values(), ZERO) != ZERO:
        raise FundingError(f"借贷不平：分录合计 {sum(amounts.values(), ZERO)} 元，应为零")
    accounts = {code: _account(code) for code in amounts}
    own = [a for a in accounts.values() if a.kind == Account.Kind.OWN]
    if not own:
        raise FundingError("凭证至少应涉及本单位的一个资金账户")
    funds = {a.fund for a in own}
    if len(funds) > 1:
        raise FundingError(
            "医疗救助资金与优抚对象医疗补助资金单独列账、专款专用，资金不得在两项资金之间划转"
            "（渝退役军人局〔2022〕52号 第八条）"
        )
    cp = _account(counterpart)
    with transaction.atomic():
        period = _period_locked(on)
        if period.closed_at:
            raise FundingError(f"{on.year}年{on.month}月已结账，不能再记账；请记入当前未结账月份")
        later = Period.objects.filter(closed_at__isnull=False).filter(
            Q(year__gt=on.year) | Q(year=on.year, month__gt=on.month)).order_by("-year", "-month").first()
        if later is not None:  # a back-dated entry would change the balances of a month already closed
            raise FundingError(f"{later.year}年{later.month}月已结账，不能再记入{on:%Y年%m月%d日}及以前的日期；"
                               "请记入已结账月份之后的日期")
        locked = {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=[a.pk for a in own]).order_by("pk")}
        for acc in locked.values():
            delta = amounts[acc.code]
            if delta < ZERO:
                low_on, low = lowest_balance_from(acc, on)
                if low + delta < ZERO:
                    raise FundingError(
                        f"「{acc.name}」余额不足：{low_on:%Y年%m月%d日}余额 {display_money(low)} 元，"
                        f"本次{on:%Y年%m月%d日}支出 {display_money(-delta)} 元，该日起任何一天都不能透支"
                    )
        period.entry_seq += 1
        period.save(update_fields=["entry_seq"])
        entry = JournalEntry.objects.create(
            number=f"JZ{on:%Y%m}-{period.entry_seq:05d}",
            date=on,
            kind=kind,
            fund=funds.pop(),
            counterpart=cp,
            source_document=source_document.strip(),
            description=description,
            entered_by=entered_by,
            approved_by=approved_by,
            fund_request=fund_request,
            payment_batch=payment_batch,
            receivable=receivable,
            reverses=reverses,
        )
        JournalLine.objects.bulk_create(
            [JournalLine(entry=entry, account=accounts[code], amount=amt) for code, amt in amounts.items()]
        )
    return entry


def money_in(*, account: str, kind: str, amount: Decimal, on: date, counterpart: str, source_document: str,
             description: str, entered_by, approved_by) -> JournalEntry:
    """Money received into an own account from outside (上级下拨, 区本级安排, 利息, 整改退款, 捐赠 …)."""
    allowed = INCOME_KINDS.get(account, set())
    if kind not in allowed:
        label = dict(EntryKind.choices).get(kind, kind)
        raise FundingError(f"「{_account(account).name}」不接收「{label}」")
    amt = money(amount)
    if amt <= ZERO:
        raise FundingError("收入金额应大于零")
    return entry_post(on=on, kind=kind, lines=[(account, amt), (counterpart, -amt)], counterpart=counterpart,
                      source_document=source_document, description=description, entered_by=entered_by,
                      approved_by=approved_by)


def money_transfer(*, from_account: str, to_account: str, amount: Decimal, on: date, source_document: str,
                   description: str, entered_by, approved_by, fund_request=None) -> JournalEntry:
    """Money between own accounts (the finance bureau's transfer 财政专户 → 支出户). Never between funds."""
    amt = money(amount)
    if amt <= ZERO:
        raise FundingError("划拨金额应大于零")
    return entry_post(on=on, kind=EntryKind.TRANSFER, lines=[(from_account, -amt), (to_account, amt)],
                      counterpart="DISTRICT", source_document=source_document, description=description,
                      entered_by=entered_by, approved_by=approved_by, fund_request=fund_request)


def pool_transfer(*, from_account: str, to_account: str, amount: Decimal, on: date, source_document: str,
                  description: str, entered_by, approved_by) -> JournalEntry:
    """Money between two pools (docs/areas.md): a district's pool to another's or to the city's (统收统支),
    one ledger entry. Both are own accounts of one fund in different pools; maker and checker differ."""
    from yfbz.areas.tree import area_tree

    amt = money(amount)
    if amt <= ZERO:
        raise FundingError("划转金额应大于零")
    src, dst = _account(from_account), _account(to_account)
    if src.kind != Account.Kind.OWN or dst.kind != Account.Kind.OWN:
        raise FundingError("资金池间划转只能在本单位账户之间进行")
    tree = area_tree()
    bureau = tree.bureau_on(on)
    default = bureau.district_id if bureau else None
    if (src.area_id or default) == (dst.area_id or default):
        raise FundingError(f"「{src.name}」与「{dst.name}」属于同一资金池，请用“专户划拨至支出户”")
    return entry_post(on=on, kind=EntryKind.POOL_TRANSFER, lines=[(from_account, -amt), (to_account, amt)],
                      counterpart="CITY", source_document=source_document, description=description,
                      entered_by=entered_by, approved_by=approved_by)


def entry_reverse(*, entry_id: int, on: date, reason: str, entered_by, approved_by) -> JournalEntry:
    """Correct a mistake: a new entry with every line negated. An entry is reversed at most once."""
    if not reason.strip():
        raise FundingError("请填写冲销原因")
    original = JournalEntry.objects.get(pk=entry_id)
    if original.kind == EntryKind.REVERSAL:
        raise FundingError("冲销凭证不能再冲销；如需更正请重新登记")
    if JournalEntry.objects.filter(reverses=original).exists():
        raise FundingError(f"凭证 {original.number} 已冲销过")
    lines = [(ln.account.code, -ln.amount) for ln in original.lines.select_related("account")]
    try:
        with transaction.atomic():
            return entry_post(on=on, kind=EntryKind.REVERSAL, lines=lines, counterpart=original.counterpart.code,
                              source_document=f"冲销{original.number}", description=f"冲销 {original.number}：{reason}",
                              entered_by=entered_by, approved_by=approved_by, reverses=original,
                              fund_request=original.fund_request, payment_batch=original.payment_batch,
                              receivable=original.receivable)
    except IntegrityError:
        raise FundingError(f"凭证 {original.number} 已冲销过") from None


def account_balance(account: Account, *, until: date | None = None) -> Decimal:
    """The balance: the sum of the account's lines (up to and including ``until``)."""
    qs = JournalLine.objects.filter(account=account)
    if until is not None:
        qs = qs.filter(entry__date__lte=until)
    return qs.aggregate(s=Sum("amount"))["s"] or ZERO


def lowest_balance_from(account: Account, on: date) -> tuple[date, Decimal]:
    """The lowest end-of-day balance of ``account`` on ``on`` or any later day with entries, and that day:
    money taken out on ``on`` is missing on every later day too, so a payment must fit under this
    (issue 10, finding 4: a balance is never negative at any date)."""
    low_on, low = on, account_balance(account, until=on)
    running = low
    later = (JournalLine.objects.filter(account=account, entry__date__gt=on).values("entry__date")
             .annotate(s=Sum("amount")).order_by("entry__date"))
    for row in later:
        running += row["s"]
        if running < low:
            low_on, low = row["entry__date"], running
    return low_on, low


def period_close(*, year: int, month: int, user, today: date | None = None) -> Period:
    """Month-end close: after it the month takes no more entries (refused in entry_post under the same lock).
    Only after the month has ended: closed on its last day, an entry dated that day would be refused."""
    last_day = date(year, month, calendar.monthrange(year, month)[1])
    if (today or timezone.localdate()) <= last_day:  # an entry dated a later day of the month would be refused
        raise FundingError(f"{year}年{month}月尚未结束（月末为{last_day:%m月%d日}），须在月末之后结账")
    with transaction.atomic():
        period = _period_locked(date(year, month, 1))
        if period.closed_at:
            raise FundingError(f"{year}年{month}月已结账")
        pending = EntryProposal.objects.filter(status=EntryProposal.Status.PENDING, on__year=year, on__month=month).count()
        if pending:
            raise FundingError(f"{year}年{month}月还有 {pending} 笔待审核凭证，请先审核或退回后再结账")
        period.closed_at = timezone.now()
        period.closed_by = user
        period.save(update_fields=["closed_at", "closed_by"])
    return period


__all__ = ["Fund", "INCOME_KINDS", "account_balance", "entry_post", "lowest_balance_from", "entry_reverse", "money_in", "money_transfer",
           "period_close"]
