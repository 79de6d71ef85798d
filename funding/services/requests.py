"""The monthly cycle (POLICY.md §12; 2号 四(三)): the fund request totals what was approved for the
month, the finance bureau's transfer 财政专户 → 支出户 is entered against it, payments go out in
batches (bank file xlsx), are marked paid on the bank's confirmation, and a failed payment comes
back to be paid again — never twice (one live attempt per line, a database constraint).

Locks, in this order: the FundRequest row, then the PaymentBatch row, then (in entry_post) the
Period and the accounts.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from yfbz.core.locks import lock, lock_one, lock_rows
from yfbz.core.workflow import record_start, record_start_many, transition, transition_many
from yfbz.rules.money import money

from ..bulk import insert_rows, is_postgresql
from ..models import (
    EntryKind,
    Fund,
    FundRequest,
    PayableLine,
    Payment,
    PaymentBatch,
    Spending,
    WithdrawnFunds,
)
from ..payables import PROVIDERS
from .errors import FundingError
from .ledger import entry_post, money_transfer
from .subsidies import log_bulk

FUND_ACCOUNT = {Fund.ASSISTANCE: "EXPENDITURE", Fund.YOUFU: "YOUFU"}
PAY_KIND = {
    (Fund.ASSISTANCE, Spending.SUBSIDY): EntryKind.PAY_SUBSIDY,
    (Fund.ASSISTANCE, Spending.BENEFIT_PERSON): EntryKind.PAY_PERSON,
    (Fund.ASSISTANCE, Spending.INSTITUTION): EntryKind.PAY_INSTITUTION,
}
PAYEE_ACCOUNT = {"PERSON": "PAYEE_PERSON", "INSTITUTION": "PAYEE_INSTITUTION"}


def fund_request_set_status(*, request: FundRequest, to: str, user, note: str = "") -> FundRequest:
    """A fund request's move through the one door (``workflow.transition``; moves: FundRequest.MOVES)."""
    transition(request, to, by=user, reason=note, update_fields=["approved_by"])
    return request


def _check_payable(i: int, p) -> tuple[str, Decimal]:
    where = f"第{i}笔（{getattr(p, 'source_key', '?')}）"
    if getattr(p, "fund", None) not in Fund.values:
        raise FundingError(f"{where}资金类型「{getattr(p, 'fund', '')}」无效")
    if p.spending not in Spending.values:
        raise FundingError(f"{where}支出类别「{p.spending}」无效")
    if p.fund == Fund.YOUFU and p.spending == Spending.SUBSIDY:
        raise FundingError(f"{where}资助参保不能从优抚对象医疗补助资金支付")
    try:
        amount = money(p.amount)
    except (TypeError, ValueError):
        raise FundingError(f"{where}金额「{p.amount}」无效") from None
    if amount <= 0:
        raise FundingError(f"{where}金额应大于零")
    return p.source_key, amount


def _district_served(user, on: date) -> int | None:
    """The district a request serves (docs/areas.md): the compiler's own (User.district), else the bureau's."""
    from yfbz.areas.tree import area_tree

    if getattr(user, "district_id", None):
        return user.district_id
    bureau = area_tree().bureau_on(on)
    return bureau.district_id if bureau else None


def _serves(district_id: int | None, month_end: date):
    """Whether a payable is this district's: its town's district on the day it concerns (a decision's
    settlement date; else the month's end). A payable with no town (an institution's one-stop month,
    a top-up) or a town placed in no district is the bureau's district's."""
    from yfbz.areas.tree import area_tree

    tree = area_tree()
    if not any(s.district_id != district_id for spans in tree.spans.values() for s in spans):
        return lambda p: True  # one district over every town: everything is its own
    bureau = tree.bureau_on(month_end)
    bureau_district = bureau.district_id if bureau else None

    def serves(p) -> bool:
        if p.town_id is None or p.town_id not in tree.spans:
            return district_id == bureau_district
        governing = tree.district_of(p.town_id, p.on or month_end)
        return governing == district_id if governing is not None else district_id == bureau_district

    return serves


def _district_name(district_id: int | None) -> str:
    from yfbz.areas.tree import area_tree

    area = area_tree().area(district_id)
    return area.name if area else ""


def fund_request_create(*, year: int, month: int, user, batch_size: int = 5000) -> FundRequest:
    """Gather every provider's payables approved for the month and not requested before."""
    with transaction.atomic():
        seq = FundRequest.objects.filter(year=year, month=month).count() + 1
        req = FundRequest.objects.create(year=year, month=month, number=f"ZJ{year}{month:02d}-{seq:02d}", created_by=user,
                                         district_id=_district_served(user, date(year, month, 1)))
        gathered, seen = [], set()
        i = 0
        serves = _serves(req.district_id, date(year, month, calendar.monthrange(year, month)[1]))
        for name, provider in PROVIDERS.items():
            for p in provider.payables(year=year, month=month):
                i += 1
                key, amount = _check_payable(i, p)
                if not serves(p):
                    continue  # another district's pool pays it (docs/areas.md, funds by area)
                if key not in seen:
                    seen.add(key)
                    gathered.append((name, p, amount))
        # keys requested before (by any earlier request), looked up in chunks among the keys gathered
        keys = list(seen)
        existing = set()
        for start in range(0, len(keys), 10_000):
            existing.update(PayableLine.objects.filter(source_key__in=keys[start:start + 10_000])
                            .exclude(status=PayableLine.Status.CANCELLED).values_list("source_key", flat=True))
        rows = []
        totals = defaultdict(lambda: Decimal("0.00"))
        for name, p, amount in gathered:
            if p.source_key in existing:
                continue
            totals[p.fund] += amount
            rows.append((name, p.source_key, p.payee_kind, p.payee_name[:100], (p.bank_name or "")[:60],
                         (p.bank_account or "")[:40], p.fund, p.spending, (p.scheme or "")[:30], p.town_id, amount))
        if not rows:
            raise FundingError(f"{year}年{month}月{_district_name(req.district_id)}没有尚未申请的已审批待支付款项")
        try:
            with transaction.atomic():
                _insert_lines(req, rows, batch_size)
        except IntegrityError:
            # another request for the same payables was compiled at the same moment (double click)
            raise FundingError("另一份资金申请正在同时编制，已包含这些款项；请刷新后查看") from None
        req.total_assistance = totals[Fund.ASSISTANCE]
        req.total_youfu = totals[Fund.YOUFU]
        req.line_count = len(rows)
        req.save(update_fields=["total_assistance", "total_youfu", "line_count"])
        record_start(req, by=user, reason="编制")
        record_start_many(PayableLine, list(req.lines.values_list("pk", flat=True)), by=user, reason=f"编入资金申请 {req.number}")
        _apply_held_funds(req, user)
        log_bulk(PayableLine, user=user, object_repr=f"资金申请 {req.number}",
                 summary={"明细笔数": len(rows), "医疗救助资金": req.total_assistance, "优抚对象医疗补助": req.total_youfu})
    return req


LINE_COLUMNS = [("provider", "varchar"), ("source_key", "varchar"), ("payee_kind", "varchar"), ("payee_name", "varchar"),
                ("bank_name", "varchar"), ("bank_account", "varchar"), ("fund", "varchar"), ("spending", "varchar"),
                ("scheme", "varchar"), ("town_id", "bigint"), ("amount", "numeric")]


def _insert_lines(req: FundRequest, rows: list[tuple], batch_size: int) -> None:
    if is_postgresql():
        insert_rows("funding_payableline", LINE_COLUMNS, rows,
                    constants={"request_id": ("bigint", req.pk), "status": ("varchar", PayableLine.Status.PENDING)})
        return
    names = [c for c, _ in LINE_COLUMNS]
    PayableLine.objects.bulk_create([PayableLine(request=req, **dict(zip(names, r, strict=True))) for r in rows], batch_size=batch_size)


def fund_request_submit(*, request_id: int, user) -> FundRequest:
    """A second person checks the request and sends it to the finance bureau (maker–checker)."""
    with transaction.atomic():
        req = FundRequest.objects.select_for_update().get(pk=request_id)
        if req.created_by_id == user.pk:
            raise FundingError("编制人不能审核自己编制的资金申请")
        req.approved_by = user
        return fund_request_set_status(request=req, to=FundRequest.Status.SUBMITTED, user=user, note="审核报送财政")


def fund_request_cancel(*, request_id: int, user, reason: str) -> FundRequest:
    """A draft found wrong is cancelled; its lines are cancelled with it (kept, with their history), which
    frees their payables to be requested again."""
    with transaction.atomic():
        req = FundRequest.objects.select_for_update().get(pk=request_id)
        fund_request_set_status(request=req, to=FundRequest.Status.CANCELLED, user=user, note=reason)
        for funds in lock(WithdrawnFunds.objects.filter(applied_to=req, status=WithdrawnFunds.Status.APPLIED)):
            funds.applied_to = None
            transition(funds, WithdrawnFunds.Status.HELD, by=user, reason=f"资金申请 {req.number} 作废，款项留存待下次抵减",
                       update_fields=["applied_to"])
        n = transition_many(req.lines.exclude(status=PayableLine.Status.CANCELLED), PayableLine.Status.CANCELLED, by=user,
                            reason=f"资金申请 {req.number} 作废：{reason}"[:500])
        log_bulk(PayableLine, user=user, object_repr=f"作废资金申请 {req.number}", summary={"释放明细笔数": n, "原因": reason})
    return req


def withdrawn_assistance(req: FundRequest) -> Decimal:
    return req.lines.filter(fund=Fund.ASSISTANCE, status=PayableLine.Status.WITHDRAWN).aggregate(
        s=Sum("amount"))["s"] or Decimal("0.00")


def transfer_due(req: FundRequest) -> Decimal:
    """What the finance bureau is to transfer for a request: its assistance total, less the lines
    withdrawn before the transfer and the money held from earlier withdrawn lines."""
    return max(req.total_assistance - withdrawn_assistance(req) - req.carried_in, Decimal("0.00"))


def fund_request_record_transfer(*, request_id: int, on: date, source_document: str, entered_by, approved_by) -> FundRequest:
    """The finance bureau's transfer 财政专户 → 支出户 of what the request still needs (transfer_due):
    lines whose claim was decided again before the transfer are withdrawn first."""
    with transaction.atomic():
        req = FundRequest.objects.select_for_update().get(pk=request_id)
        if req.status != FundRequest.Status.SUBMITTED:
            raise FundingError(f"资金申请 {req.number} 当前为「{req.get_status_display()}」，不能登记财政划拨")
        _withdraw_stale(req, approved_by)
        amount = transfer_due(req)
        if amount > 0:
            held = f"，已抵减此前撤回留存的{req.carried_in}元" if req.carried_in else ""
            money_transfer(from_account="SPECIAL", to_account="EXPENDITURE", amount=amount, on=on,
                           source_document=source_document,
                           description=f"{req.year}年{req.month}月医疗救助资金（{req.number}{held}）",
                           entered_by=entered_by, approved_by=approved_by, fund_request=req)
        req.transferred_assistance = amount
        req.save(update_fields=["transferred_assistance"])
        return fund_request_set_status(request=req, to=FundRequest.Status.FUNDED, user=approved_by, note=source_document)


def _withdraw_stale(req: FundRequest, user) -> int:
    """A payable its provider no longer lists (a decision made again or refused, a report withdrawn,
    or paid by another way) is withdrawn before money goes out for it. When the finance bureau has
    already transferred the money for an assistance line, that money is HELD in 支出户 for the next
    request (WithdrawnFunds) — it never sits there unexplained."""
    withdrawn = 0
    now = timezone.now()
    why = "来源已撤回：该笔款项已重新核定、不予救助或改由其他方式处理，不再支付"
    for name in req.lines.filter(status=PayableLine.Status.PENDING).values_list("provider", flat=True).distinct():
        provider = PROVIDERS.get(name)
        if provider is None:
            continue
        current = {p.source_key for p in provider.payables(year=req.year, month=req.month)}
        stale = [pk for pk, key in req.lines.filter(provider=name, status=PayableLine.Status.PENDING).values_list("pk", "source_key")
                 if key not in current]
        if stale:
            moving = PayableLine.objects.filter(pk__in=stale, status=PayableLine.Status.PENDING)
            ids = [pk for pk, _s in lock_rows(moving, "status")]
            withdrawn += transition_many(PayableLine.objects.filter(pk__in=ids), PayableLine.Status.WITHDRAWN, by=user, reason=why)
            PayableLine.objects.filter(pk__in=ids).update(withdrawn_at=now, withdrawn_reason=why)
            if req.status == FundRequest.Status.FUNDED:
                _hold_funds(req, PayableLine.objects.filter(pk__in=stale, fund=Fund.ASSISTANCE), user)
    if withdrawn:
        log_bulk(PayableLine, user=user, object_repr=f"资金申请 {req.number} 撤回明细", summary={"撤回笔数": withdrawn})
    return withdrawn


def payable_lines_withdraw(*, source_keys: list[str], reason: str, user) -> int:
    """A provider says these payables are no longer due (claims: a decision made again or refused
    before payment): their pending lines are withdrawn now, with the reason; money already
    transferred for them is held for the next request. Lines already in a bank batch or paid are
    left alone (a payment that goes through is carried into the new decision by the provider)."""
    n = 0
    with transaction.atomic():
        lines = list(lock(PayableLine.objects.filter(source_key__in=source_keys, status=PayableLine.Status.PENDING)))
        for line in lines:
            req = line.request
            line.withdrawn_at, line.withdrawn_reason = timezone.now(), reason[:200]
            transition(line, PayableLine.Status.WITHDRAWN, by=user, reason=reason, update_fields=["withdrawn_at", "withdrawn_reason"])
            if req.status == FundRequest.Status.FUNDED and line.fund == Fund.ASSISTANCE:
                _hold_funds(req, PayableLine.objects.filter(pk=line.pk), user)
            n += 1
        if n:
            log_bulk(PayableLine, user=user, object_repr="撤回明细", summary={"撤回笔数": n, "原因": reason[:100]})
    return n


def fund_request_withdraw_stale(*, request_id: int, user) -> int:
    """Check a request's pending lines against their sources now and withdraw those no longer due."""
    with transaction.atomic():
        return _withdraw_stale(lock_one(FundRequest, request_id), user)


def _hold_funds(req: FundRequest, lines, user) -> None:
    for line in lines.filter(withdrawn_funds__isnull=True).order_by("pk"):
        funds = WithdrawnFunds.objects.create(line=line, request=req, amount=line.amount)
        record_start(funds, by=user, reason=f"资金申请 {req.number} 已划拨，明细撤回：款项留存支出户，抵减下次申请")


def _apply_held_funds(req: FundRequest, user) -> None:
    """A new request's assistance transfer is reduced by money held from earlier withdrawn lines
    (oldest first, while it fits in the request's total)."""
    if req.total_assistance <= 0:
        return
    room = req.total_assistance
    used = Decimal("0.00")
    for funds in lock(WithdrawnFunds.objects.filter(status=WithdrawnFunds.Status.HELD)):
        if funds.amount > room:
            continue
        funds.applied_to = req
        transition(funds, WithdrawnFunds.Status.APPLIED, by=user, reason=f"抵减资金申请 {req.number} 的财政划拨",
                   update_fields=["applied_to"])
        room -= funds.amount
        used += funds.amount
    if used:
        req.carried_in = used
        req.save(update_fields=["carried_in"])


def withdrawn_funds_return(*, funds_id: int, on: date, source_document: str, entered_by, approved_by) -> WithdrawnFunds:
    """Return held money to 财政专户 instead of keeping it for the next request: one ledger entry
    支出户 → 专户 (maker: the finance officer; checker: the reviewer who approved the request)."""
    with transaction.atomic():
        funds = lock_one(WithdrawnFunds, funds_id)
        if funds.status != WithdrawnFunds.Status.HELD:
            raise FundingError(f"该笔撤回款项当前为「{funds.get_status_display()}」，不能退回财政专户")
        line = funds.line
        entry = entry_post(
            on=on, kind=EntryKind.RETURN_TO_SPECIAL, lines=[("EXPENDITURE", -funds.amount), ("SPECIAL", funds.amount)],
            counterpart="DISTRICT", source_document=source_document,
            description=f"资金申请 {funds.request.number} 撤回明细（{line.payee_name}）款项退回财政专户"[:200],
            entered_by=entered_by, approved_by=approved_by, fund_request=funds.request,
        )
        funds.entry = entry
        transition(funds, WithdrawnFunds.Status.RETURNED, by=entered_by, reason=f"凭证 {entry.number} 退回财政专户",
                   update_fields=["entry"])
    return funds


def payment_batch_create(*, request_id: int, fund: str, user) -> PaymentBatch:
    """Put every pending line of one fund (with a bank account) into a new batch for the bank file.
    Lines their provider has withdrawn are set aside first (committed even if no batch results)."""
    with transaction.atomic():
        _withdraw_stale(FundRequest.objects.select_for_update().get(pk=request_id), user)
    with transaction.atomic():
        req = FundRequest.objects.select_for_update().get(pk=request_id)
        ready = {Fund.ASSISTANCE: {FundRequest.Status.FUNDED}, Fund.YOUFU: {FundRequest.Status.SUBMITTED, FundRequest.Status.FUNDED}}
        if req.status not in ready[Fund(fund)]:
            need = "财政划拨到账后" if fund == Fund.ASSISTANCE else "审核报送后"
            raise FundingError(f"资金申请 {req.number} 须{need}才能支付（当前「{req.get_status_display()}」）")
        ready_lines = req.lines.filter(fund=fund, status=PayableLine.Status.PENDING).exclude(bank_account="")
        rows = list(ready_lines.order_by("pk").values_list("pk", "bank_name", "bank_account", "amount"))
        if not rows:
            raise FundingError("没有待支付且有银行账号的明细")
        seq = PaymentBatch.objects.filter(request=req).count() + 1
        batch = PaymentBatch.objects.create(request=req, number=f"ZF{req.number[2:]}-{seq:02d}", fund=fund, created_by=user,
                                            total=sum((r[3] for r in rows), Decimal("0.00")))
        if is_postgresql():
            insert_rows("funding_payment", [("line_id", "bigint"), ("bank_name", "varchar"), ("bank_account", "varchar"), ("amount", "numeric")],
                        rows, constants={"batch_id": ("bigint", batch.pk), "status": ("varchar", Payment.Status.SENT),
                                         "failure_reason": ("varchar", "")})
        else:
            Payment.objects.bulk_create([Payment(batch=batch, line_id=r[0], bank_name=r[1], bank_account=r[2], amount=r[3]) for r in rows],
                                        batch_size=5000)
        record_start(batch, by=user, reason=f"{len(rows)}笔")
        record_start_many(Payment, list(batch.payments.order_by("pk").values_list("pk", flat=True)), by=user,
                          reason=f"支付批次 {batch.number}")
        # the request row is locked: the same lines are still the pending ones
        transition_many(PayableLine.objects.filter(pk__in=[r[0] for r in rows]), PayableLine.Status.IN_BATCH, by=user,
                        reason=f"编入支付批次 {batch.number}")
        log_bulk(Payment, user=user, object_repr=f"支付批次 {batch.number}", summary={"笔数": len(rows), "金额": batch.total})
    return batch


def payment_batch_confirm(*, batch_id: int, paid_on: date, failures: dict[int, str], user) -> PaymentBatch:
    """The bank's confirmation: failed payments (payment id → reason) go back to be paid again; the rest
    are paid, booked out of the fund's account and reported paid to their provider. A second
    confirmation of the same batch (double click) is refused."""
    with transaction.atomic():
        batch = PaymentBatch.objects.select_for_update().select_related("request").get(pk=batch_id)
        if batch.status != PaymentBatch.Status.EXPORTED:
            raise FundingError(f"支付批次 {batch.number} 已确认过银行回单")
        if batch.created_by_id == user.pk:
            raise FundingError("制单人不能确认自己制作的支付批次")
        rows = list(batch.payments.values_list("pk", "amount", "line__spending", "line__payee_kind", "line__provider", "line__source_key"))
        unknown = set(failures) - {r[0] for r in rows}
        if unknown:
            raise FundingError(f"支付明细 {sorted(unknown)} 不属于批次 {batch.number}")
        failed_ids = list(failures)
        for pid, reason in failures.items():
            if not (reason or "").strip():
                raise FundingError(f"支付明细 {pid} 请填写失败原因")
        for payment in lock(Payment.objects.filter(pk__in=failed_ids)):
            payment.failure_reason = failures[payment.pk].strip()[:200]
            transition(payment, Payment.Status.FAILED, by=user, reason=f"银行回单 {batch.number}：{payment.failure_reason}",
                       update_fields=["failure_reason"])
        failed_lines = list(Payment.objects.filter(pk__in=failed_ids).values_list("line_id", flat=True))
        transition_many(PayableLine.objects.filter(pk__in=failed_lines), PayableLine.Status.PENDING, by=user,
                        reason=f"银行回单 {batch.number}：支付失败，待重新支付")
        paid = [r for r in rows if r[0] not in failures]
        transition_many(Payment.objects.filter(batch=batch).exclude(pk__in=failed_ids), Payment.Status.PAID, by=user,
                        reason=f"银行回单 {batch.number}")
        paid_lines = list(Payment.objects.filter(batch=batch, status=Payment.Status.PAID).values_list("line_id", flat=True))
        transition_many(PayableLine.objects.filter(pk__in=paid_lines), PayableLine.Status.PAID, by=user,
                        reason=f"银行回单 {batch.number}（{paid_on:%Y-%m-%d}支付）")
        PayableLine.objects.filter(pk__in=paid_lines).update(paid_on=paid_on)
        sums = defaultdict(lambda: Decimal("0.00"))
        by_provider = defaultdict(list)
        for _pk, amount, spending, payee_kind, provider, key in paid:
            sums[(spending, payee_kind)] += amount
            by_provider[provider].append(key)
        account = FUND_ACCOUNT[Fund(batch.fund)]
        for (spending, payee_kind), total in sorted(sums.items()):
            kind = EntryKind.PAY_YOUFU if batch.fund == Fund.YOUFU else PAY_KIND[(Fund.ASSISTANCE, spending)]
            payee = PAYEE_ACCOUNT[payee_kind]
            entry_post(on=paid_on, kind=kind, lines=[(account, -total), (payee, total)], counterpart=payee,
                       source_document=f"银行回单 {batch.number}", description=f"{batch.number} {Spending(spending).label}",
                       entered_by=batch.created_by, approved_by=user, fund_request=batch.request, payment_batch=batch)
        for name, keys in by_provider.items():
            try:
                PROVIDERS[name].mark_paid(source_keys=keys, paid_on=paid_on, user=user)
            except (FundingError, DatabaseError):  # a conflict stays a conflict (yfbz.core.middleware)
                raise
            except Exception as exc:  # the provider's own refusal: nothing of this confirmation is kept
                raise FundingError(f"「{name}」模块拒绝标记支付，本次回单确认未生效：{exc}") from exc
        batch.confirmed_by, batch.paid_on = user, paid_on
        transition(batch, PaymentBatch.Status.CONFIRMED, by=user,
                   reason=f"银行回单：成功{len(paid)}笔，失败{len(failures)}笔（{paid_on:%Y-%m-%d}）",
                   update_fields=["confirmed_by", "paid_on"])
        log_bulk(Payment, user=user, object_repr=f"银行回单 {batch.number}",
                 summary={"成功笔数": len(paid), "失败笔数": len(failures), "成功金额": sum(sums.values(), Decimal("0.00"))})
    return batch


def payable_correct_bank(*, line_id: int, bank_name: str, bank_account: str, user) -> PayableLine:
    """After a failed payment (wrong account) the account is corrected before the line is paid again."""
    with transaction.atomic():
        line = PayableLine.objects.select_for_update().get(pk=line_id)
        if line.status != PayableLine.Status.PENDING:
            raise FundingError(f"该明细当前为「{line.get_status_display()}」，不能修改银行账号")
        if not bank_account.strip():
            raise FundingError("请填写银行账号")
        line.bank_name, line.bank_account = bank_name.strip(), bank_account.strip()
        line.save(update_fields=["bank_name", "bank_account"])
    return line


def fund_request_totals(req: FundRequest) -> list[dict]:
    """Totals by fund, spending and scheme, for the page and the PDF."""
    return list(
        req.lines.exclude(status=PayableLine.Status.CANCELLED).values("fund", "spending", "scheme").annotate(n=Count("pk"), total=Sum("amount")).order_by("fund", "spending", "scheme")
    )


BANK_OK = {"成功", "已支付", "支付成功", "交易成功", "SUCCESS", "OK"}
BANK_FAILED = {"失败", "支付失败", "交易失败", "退票", "已退票", "FAILED", "FAIL"}


def bank_return_parse(*, batch_id: int, data: bytes) -> dict[int, str]:
    """The bank's return file (xlsx or CSV through the one reader: 明细号, 状态, 失败原因; title rows
    allowed, docs/files.md) → {payment id: reason} of the failed ones. Every payment of the batch must
    be listed exactly once, so nothing is marked paid by omission."""
    from yfbz.core.uploads import UploadRefused, check_data
    from yfbz.files.formats import BANK_RETURN
    from yfbz.files.reader import FileUnreadable, cell_text, normalise_text, read_table

    batch = PaymentBatch.objects.get(pk=batch_id)
    try:  # xlsx or CSV only, and not a hostile one (issue 9)
        check_data("银行回单", data, "bank_return")
        table = read_table(data, BANK_RETURN)
    except (UploadRefused, FileUnreadable) as exc:
        raise FundingError(f"银行回单无法读取：{exc}") from None
    cols = table.columns
    label = {key: table.header_of(key) for key in BANK_RETURN.labels}  # as the bank's file names them

    def cell(row, key):
        i = cols.get(key)
        return normalise_text(cell_text(row[i])) if i is not None and i < len(row) else ""

    expected = set(batch.payments.values_list("pk", flat=True))
    seen: dict[int, int] = {}
    failures, errors = {}, []
    for n, row in table.rows:
        raw = cell(row, "payment")
        try:
            pid = int(raw)
        except ValueError:
            errors.append(f"第{n}行 {label['payment']}「{raw}」无效")
            continue
        if pid not in expected:
            errors.append(f"第{n}行 {label['payment']} {pid} 不属于批次 {batch.number}")
            continue
        if pid in seen:
            errors.append(f"第{n}行 {label['payment']} {pid} 与第{seen[pid]}行重复")
            continue
        seen[pid] = n
        status = cell(row, "status")
        if status.upper() in BANK_FAILED:
            failures[pid] = cell(row, "reason") or "银行退回"
        elif status.upper() not in BANK_OK:
            errors.append(f"第{n}行 {label['status']}「{status}」无法识别（应为成功或失败）")
    missing = expected - set(seen)
    if missing:
        errors.append(f"回单缺少 {len(missing)} 笔明细（如明细号 {min(missing)}），请核对银行回单")
    if errors:
        raise FundingError("银行回单有误，未作任何处理：" + "；".join(errors[:20]))
    return failures
