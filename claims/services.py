"""State changes of claims: entering bills, deciding them with the engine, approval (maker–checker),
re-decisions with their money difference, and marking payables paid (called by funding).

Locks are always taken in this order: Bill rows (by id) → Decision rows → CapUsage rows (by person,
year, scheme). Every status move of a bill goes through ``bill_set_status``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from beneficiaries.towns import town_on
from yfbz.core import hooks
from yfbz.core.audit import audit_bulk
from yfbz.core.display import money
from yfbz.core.errors import YfbzError
from yfbz.core.roles import Role
from yfbz.core.scoping import check_in_area
from yfbz.core.workflow import record_start, transition
from yfbz.policy.inputs import bill_for_engine, decide_bill, person_for_engine, policy_for
from yfbz.rules import Decision as EngineDecision
from yfbz.rules import outpatient_pooling
from yfbz.rules.scenario import ratio_str

from . import caps
from .models import (
    ZERO,
    Adjustment,
    Bill,
    BillAttachment,
    CapKey,
    Decision,
    Institution,
    InstitutionBankChange,
    Scheme,
    SettlementLine,
    SettlementMonth,
)

S = Bill.Status


class ClaimsError(YfbzError):
    """A refused action, with a message staff can read (Chinese)."""


# --- status changes: the one door is yfbz.core.workflow.transition (moves: Bill.MOVES) -----------
ALLOWED = Bill.MOVES
#: statuses in which a bill's current decision counts against the person's caps
COUNTING = caps.COUNTING


def bill_set_status(*, bill: Bill, to: str, user, note: str = ""):
    """Move a (locked) bill to ``to`` through the one door (``workflow.transition``). Whoever follows a
    bill (monitoring: an application granted on it) is told in the same transaction, through the
    ``bill_moved`` place of ``yfbz.core.hooks`` (claims imports none of them)."""
    row = transition(bill, to, by=user, reason=note)
    hooks.contributions("bill_moved", bill, to, user, note)
    return row


# --- an institution's bank account: maker ≠ checker ---------------------------------------------
def institution_bank_propose(*, institution, bank_name: str, bank_account: str, reason: str, document_ref: str,
                             user, instance: InstitutionBankChange | None = None) -> InstitutionBankChange:
    if not (user.is_superuser or user.has_role(Role.SYSADMIN, Role.DISTRICT_CLERK)):
        raise ClaimsError("只有系统管理员或区医保经办可以提出机构银行账号变更。")
    if not (bank_name.strip() and bank_account.strip() and reason.strip() and document_ref.strip()):
        raise ClaimsError("请填写新开户银行、新银行账号、变更原因和依据文件。")
    change = instance or InstitutionBankChange()
    change.institution, change.bank_name, change.bank_account = institution, bank_name.strip(), bank_account.strip()
    change.reason, change.document_ref = reason.strip(), document_ref.strip()
    change.old_bank_name, change.old_bank_account = institution.bank_name, institution.bank_account
    change.status, change.proposed_by = InstitutionBankChange.Status.PROPOSED, user
    change.save()
    return change


@transaction.atomic
def institution_bank_decide(*, change_id: int, user, confirm: bool, note: str = "") -> InstitutionBankChange:
    change = InstitutionBankChange.objects.select_for_update().get(pk=change_id)
    if not (user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER, Role.FINANCE)):
        raise ClaimsError("只有区医保审核或财务人员可以确认机构银行账号变更。")
    if change.status != InstitutionBankChange.Status.PROPOSED:
        raise ClaimsError(f"该变更已{change.get_status_display()}，不能再处理。")
    if change.proposed_by_id == user.pk:
        raise ClaimsError("不能确认自己提出的银行账号变更（须由另一人确认）。")
    change.status = InstitutionBankChange.Status.CONFIRMED if confirm else InstitutionBankChange.Status.REJECTED
    change.decided_by, change.decided_at, change.decision_note = user, timezone.now(), note[:200]
    change.save()
    if confirm:
        inst = Institution.objects.select_for_update().get(pk=change.institution_id)
        inst.bank_name, inst.bank_account = change.bank_name, change.bank_account
        inst.save(update_fields=["bank_name", "bank_account"])
    return change


def log_bulk(obj, user, summary: dict) -> None:
    """One audit entry per bulk operation (bulk writes send no signals to django-auditlog)."""
    audit_bulk(actor=user, what=str(obj), summary=summary, obj=obj)


# --- entering bills ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Upload:
    file_name: str
    content_type: str
    data: bytes


def _clean(bill: Bill) -> None:
    """Model validation with the field named in Chinese (e.g. “政策范围内费用：…”), as a ClaimsError."""
    try:
        bill.full_clean()
    except ValidationError as exc:
        parts = []
        for field, msgs in exc.message_dict.items():
            try:
                label = Bill._meta.get_field(field).verbose_name
            except Exception:  # noqa: BLE001 - NON_FIELD_ERRORS and the like
                label = ""
            parts.append(f"{label}：{'；'.join(msgs)}" if label else "；".join(msgs))
        raise ClaimsError("票据数据有误：" + "；".join(parts)) from exc


def bill_enter(*, user, attachments: list[Upload] = (), duplicate_reason: str = "", **fields) -> Bill:
    """Create a bill (already validated by the form) with its scanned papers, status ENTERED. A bill
    matching an earlier one is refused when that one is approved, else needs ``duplicate_reason``."""
    if not (user.is_superuser or user.has_role(Role.DISTRICT_CLERK)):
        raise ClaimsError("只有区医保经办人员可以录入手工报销票据。")
    for up in attachments:
        _scan_type(up)
    reason = (duplicate_reason or "").strip()
    with transaction.atomic():
        bill = Bill(entered_by=user, status=S.ENTERED, **fields)
        _clean(bill)
        _refuse_duplicate(bill, reason)
        bill.town_id = town_on(bill.person, bill.settled_on)
        _in_area(user, bill, "录入票据")
        bill.save()
        for up in attachments:
            bill_attach(bill=bill, upload=up, user=user)
        record_start(bill, by=user, reason="录入")
    return bill


# --- duplicates (issue 10, finding 3) -----------------------------------------------------------------
#: bills whose money is decided: a bill matching one of them is refused (it would be paid twice)
DECIDED_FOR_GOOD = (S.APPROVED, S.PAID, S.HISTORIC)
DUPLICATE_OF_APPROVED = ("与{what}相同（同一人、同一医疗机构、同一日期、政策范围内费用相同），该笔已{status}，"
                         "不能再次录入（否则将重复支付）。如原票据有误，请对原票据重新核定。")
DUPLICATE_NEEDS_REASON = ("与{what}相同（同一人、同一医疗机构、同一日期、政策范围内费用相同，当前{status}）。"
                          "如确需再次录入，请在“重复录入理由”中写明理由。")


def bill_matches(*, person_id: int, institution_id: int, admitted_on, settled_on, in_policy_cost, exclude: int | None = None):
    """Bills and one-stop settlement lines matching these facts: (bills, settlement lines)."""
    same = {"person_id": person_id, "institution_id": institution_id, "settled_on": settled_on,
            "in_policy_cost": in_policy_cost, "admitted_on": admitted_on}
    bills = Bill.objects.filter(**same).exclude(pk=exclude).order_by("pk")
    lines = SettlementLine.objects.filter(**same, duplicate=False).order_by("pk")
    return bills, lines


def _line_decided(line) -> bool:
    """A one-stop line whose money is decided: agreed, or settled with a payment."""
    return line.outcome == SettlementLine.Outcome.AGREED or (bool(line.resolution) and line.payable > 0)


def describe_match(obj) -> tuple[str, str, bool]:
    """(what, its status, decided for good) of a matching bill or settlement line, for the messages."""
    if isinstance(obj, Bill):
        return (f"票据{obj.pk}（{obj.settled_on:%Y-%m-%d}，政策范围内费用{money(obj.in_policy_cost)}元）",
                obj.get_status_display(), obj.status in DECIDED_FOR_GOOD)
    decided = _line_decided(obj)
    return (f"一站式结算{obj.settlement_no}（{obj.settled_on:%Y-%m-%d}，政策范围内费用{money(obj.in_policy_cost)}元）",
            "由医疗机构一站式结算" + ("并已核定" if decided else "待处理"), decided)


def duplicate_problem(*, person_id, institution_id, admitted_on, settled_on, in_policy_cost, reason: str,
                      exclude: int | None = None) -> tuple[ClaimsError, object] | None:
    """The refusal a bill with these facts meets, or None: (the error, the earlier record)."""
    bills, lines = bill_matches(person_id=person_id, institution_id=institution_id, admitted_on=admitted_on,
                                settled_on=settled_on, in_policy_cost=in_policy_cost, exclude=exclude)
    found = list(bills[:5]) + list(lines[:5])
    if not found:
        return None
    for obj in found:
        what, status, final = describe_match(obj)
        if final:
            return ClaimsError(DUPLICATE_OF_APPROVED, what=what, status=status), obj
    if reason:
        return None
    what, status, _ = describe_match(found[0])
    return ClaimsError(DUPLICATE_NEEDS_REASON, what=what, status=status), found[0]


def _refuse_duplicate(bill: Bill, reason: str) -> None:
    from beneficiaries.models import Person

    Person.objects.select_for_update().filter(pk=bill.person_id).first()  # two clerks entering the same bill at once
    problem = duplicate_problem(person_id=bill.person_id, institution_id=bill.institution_id, admitted_on=bill.admitted_on,
                                settled_on=bill.settled_on, in_policy_cost=bill.in_policy_cost, reason=reason,
                                exclude=bill.pk)
    if problem is not None:
        raise problem[0]
    bills, lines = bill_matches(person_id=bill.person_id, institution_id=bill.institution_id, admitted_on=bill.admitted_on,
                                settled_on=bill.settled_on, in_policy_cost=bill.in_policy_cost, exclude=bill.pk)
    earlier = bills.first()
    bill.duplicate_of = earlier
    bill.duplicate_reason = reason if (earlier is not None or lines.exists()) else ""


def _scan_type(upload: Upload) -> str:
    """PDF, JPEG or PNG by the bytes (an HTML page sent as a scan is refused: issue 9, finding 1)."""
    from yfbz.core.uploads import UploadRefused, check_scan

    try:
        return check_scan(upload.file_name, upload.data)
    except UploadRefused as exc:
        raise ClaimsError(f"扫描件{exc}") from None


def bill_attach(*, bill: Bill, upload: Upload, user) -> BillAttachment:
    content_type = _scan_type(upload)
    if len(upload.file_name) > 200:
        raise ClaimsError(f"扫描件文件名超过200个字符：“{upload.file_name[:40]}…”，请改短后再上传。")
    return BillAttachment.objects.create(
        bill=bill,
        file_name=upload.file_name,
        content_type=content_type,
        size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        data=upload.data,
        uploaded_by=user,
    )


# --- caps: the one cap ledger is claims.caps (lock, read, add, in one fixed order) ----------------


# --- deciding ------------------------------------------------------------------------------------
def layers_json(d: EngineDecision) -> list[dict]:
    """The one-stop layers of an engine decision, as stored (``Decision.to_dict()['layers']``)."""
    return d.to_dict()["layers"]


def _paid_so_far(bill: Bill) -> tuple[Decimal, Decimal]:
    """What has gone out for this bill, net of recoveries opened: (assistance, youfu)."""
    a = y = ZERO
    for d in bill.decisions.all():
        a += d.assistance_paid_amount
        y += d.youfu_paid_amount
    for adj in Adjustment.objects.filter(decision__bill=bill, kind=Adjustment.Kind.RECOVERY):
        if adj.fund == "ASSISTANCE":
            a -= adj.amount
        else:
            y -= adj.amount
    return a, y


def engine_decide(*, bill: Bill, used: dict[str, Decimal]):
    """The engine's decision on a bill (saved or not) given what each cap has used this year:
    (engine Decision, pooling decision or None, Policy). Pure apart from reading the person's
    identities and the policy; used both to decide under lock and for the clerk's preview."""
    person = person_for_engine(bill.person)
    try:
        policy = policy_for(bill.settled_on, person=person)
    except Exception as exc:  # noqa: BLE001 - the policy data is broken: say so, decide nothing
        raise ClaimsError(f"结算日{bill.settled_on}没有可用的政策数据：{exc}") from exc
    pooling = None
    basic = None
    if bill.employee_pooling:
        if not bill.employment or not bill.tier:
            raise ClaimsError("职工普通门诊票据需填写在职/退休和参保档次。")
        try:
            pooling = outpatient_pooling(
                policy,
                employment=bill.employment,
                tier=bill.tier,
                institution_level=bill.institution.level,
                in_policy_cost=bill.in_policy_cost,
                fixed_items_paid=bill.fixed_items_paid,
                deductible_used=used.get(CapKey.POOLING_DEDUCTIBLE, ZERO),
                paid_this_year=used.get(CapKey.POOLING, ZERO),
                pharmacy=bill.pharmacy,
                prescribing_level=bill.prescribing_level,
            )
        except ValueError as exc:
            raise ClaimsError(f"职工门诊统筹无法计算：{exc}") from exc
        basic = pooling.amount
    ed, _ = decide_bill(person, bill_for_engine(bill, basic_paid=basic), used, policy=policy)
    return ed, pooling, policy


def explanation_of(ed: EngineDecision, pooling) -> str:
    """The engine's plain-Chinese explanation, with the bureau's pooling line first when computed."""
    text = ed.explain_zh()
    if pooling is None:
        return text
    return (
        f"职工普通门诊统筹（渝医保发〔2023〕32号）：计入起付标准{pooling.deductible_applied}元，"
        f"按{ratio_str(pooling.ratio)}支付{pooling.amount}元，年度限额剩余{pooling.limit_left_after}元。\n" + text
    )


def _last_approved(d: Decision | None) -> Decision | None:
    """The latest decision of a chain a reviewer approved (or refused): what the person was told.
    A re-decision still pending is not a base to measure the next one against."""
    while d is not None and d.reviewed_at is None:
        d = d.supersedes
    return d


def _decide_locked(*, bill: Bill, user, reason: str, retroactive_change=None) -> Decision:
    old = bill.decisions.select_for_update().filter(is_current=True).first()
    # a bill sent back has no current decision: the new one still continues the bill's chain
    previous = old or bill.decisions.filter(superseded_by__isnull=True).order_by("-id").first()
    if retroactive_change is None and old is None and previous is not None and previous.retroactive_change_id:
        # decided again after the reviewer sent a retroactive re-decision back: it stays that change's
        if previous.retroactive_change.status in previous.retroactive_change.WAITING:
            retroactive_change = previous.retroactive_change
    base = _last_approved(previous) or previous
    old_counts = old is not None and bill.status in COUNTING
    keys = {(bill.person_id, bill.settled_on.year)}
    if old_counts:
        keys.add((old.person_id, old.year))
    ledger = caps.lock(keys)
    if old_counts:
        ledger.add_decision(old, -1)
    pid, year = bill.person_id, bill.settled_on.year
    used = ledger.used(pid, year)
    ed, pooling, policy = engine_decide(bill=bill, used=used)
    if pooling is not None and bill.basic_paid != pooling.amount:
        bill.basic_paid = pooling.amount
        bill.save(update_fields=["basic_paid"])
    town_id = town_on(bill.person, bill.settled_on)  # the town (and district) the decision is made under
    if bill.town_id != town_id:
        bill.town_id = town_id
        bill.save(update_fields=["town"])
    if old is not None:
        old.is_current = False
        old.save(update_fields=["is_current"])
    paid_a, paid_y = _paid_so_far(bill)
    explanation = explanation_of(ed, pooling)
    snapshot = ed.to_dict()
    new = Decision.objects.create(
        bill=bill,
        person_id=pid,
        year=ed.year,
        settled_on=ed.settled_on,
        town_id=town_id,
        policy_version=ed.policy_version,
        scheme=str(ed.scheme) if ed.scheme else "",
        category=ed.category or "",
        category_name=policy.category_name(ed.category) if ed.category else "",
        group=ed.group or "",
        ratio=ed.ratio,
        base=ed.base,
        pooling_paid=pooling.amount if pooling else ZERO,
        pooling_deductible=pooling.deductible_applied if pooling else ZERO,
        assistance=ed.amount,
        cap=ed.cap,
        cap_left_before=ed.cap_left_before,
        cap_left_after=ed.cap_left_after,
        youfu_category=ed.youfu.category or "",
        youfu_ratio=ed.youfu.ratio,
        youfu_subsidy=ed.youfu.amount,
        youfu_cap_left_after=ed.youfu.cap_left_after,
        youfu_burden=ed.youfu.counted,
        reasons=[int(r) for r in ed.reasons],
        explanation=explanation,
        layers=snapshot["layers"],
        considered=snapshot["considered"],
        snapshot=snapshot,
        provisional=ed.uses_provisional_rule,
        provisional_sources=[r.source for r in ed.provisional],
        supersedes=previous,
        redecision_reason=reason if previous else "",
        retroactive_change=retroactive_change,
        prior_paid_assistance=paid_a,
        prior_paid_youfu=paid_y,
        assistance_difference=ed.amount - base.assistance if base else ZERO,
        youfu_difference=ed.youfu.amount - base.youfu_subsidy if base else ZERO,
        decided_by=user,
    )
    ledger.add_decision(new, +1)
    if old is not None and old.reviewed_at is not None:
        _withdraw_payables(old, f"票据{bill.pk}已重新核定（{reason or '重新核定'}），原核定不再支付", user)
    note = "核定" if previous is None else f"重新核定：{reason}" if reason else "重新核定"
    bill_set_status(bill=bill, to=S.DECIDED, user=user, note=note)
    return new


def _historic_cap(bill: Bill, scheme: str, used: dict[str, Decimal]):
    """The annual cap of ``scheme`` that the policy in force gives the person on the bill's date (from
    the best of the identities they hold, as for any decision): (engine Considered or None, Policy)."""
    ed, policy = decide_bill(person_for_engine(bill.person), bill_for_engine(bill), used)
    c = next((c for c in ed.considered if str(c.scheme) == scheme and c.cap is not None), None)
    return c, policy


def bill_record_historic(
    *, entered_by, approved_by, scheme: str | None, category: str | None, assistance: Decimal,
    youfu_subsidy: Decimal = ZERO, source: str, **fields,
) -> Decision:
    """Record a bill the old system decided and paid before the bureau adopted this product
    (``load_history --historic``): the bill with status HISTORIC and a current decision with the old
    system's scheme, identity and amounts as given, ``historic`` set. It counts against the person's
    annual caps (locked as for any decision) and in the statistics; it is never a payable (only
    APPROVED bills are) and is never decided again here. Entered by a district clerk, recorded as
    approved by a different district reviewer, as for any decision."""
    if not (entered_by.is_superuser or entered_by.has_role(Role.DISTRICT_CLERK)):
        raise ClaimsError(f"{entered_by}不是区医保经办人员，不能录入票据。")
    if not (approved_by.is_superuser or approved_by.has_role(Role.DISTRICT_REVIEWER)):
        raise ClaimsError(f"{approved_by}不是区医保审核人员，不能审批。")
    if entered_by.pk == approved_by.pk:
        raise ClaimsError("录入人和审批人须为不同人员（经办与审核分离）。")
    if scheme and scheme not in Scheme.values:
        raise ClaimsError(f"未知的救助方案：{scheme}")
    if not scheme and assistance:
        raise ClaimsError("未给出救助方案时医疗救助金额须为0。")
    if assistance < ZERO or youfu_subsidy < ZERO:
        raise ClaimsError("金额不能为负数。")
    with transaction.atomic():
        bill = Bill(entered_by=entered_by, status=S.HISTORIC, note=source, **fields)
        _clean(bill)
        bill.town_id = town_on(bill.person, bill.settled_on)
        base = max(bill.in_policy_cost - bill.basic_paid - bill.critical_paid, ZERO)
        if assistance + youfu_subsidy > base:
            raise ClaimsError(
                f"医疗救助{assistance}元与优抚补助{youfu_subsidy}元之和大于政策范围内个人自付{base}元。"
            )
        bill.save()
        record_start(bill, by=entered_by, reason=f"原系统已核定（{source}）")
        pid, year = bill.person_id, bill.settled_on.year
        ledger = caps.lock({(pid, year)})
        used = ledger.used(pid, year)
        considered, policy = _historic_cap(bill, scheme, used) if scheme else (None, None)
        policy = policy or policy_for(bill.settled_on, person=person_for_engine(bill.person))
        cap = considered.cap if considered is not None else None
        left_before = None if cap is None else max(cap - used.get(scheme, ZERO), ZERO)
        left_after = None if cap is None else max(left_before - assistance, ZERO)
        scheme_zh = Scheme(scheme).label if scheme else "未给予医疗救助"
        name = policy.category_name(category) if category else ""
        explanation = (
            f"原系统核定（采用本系统前，{source}）：{scheme_zh}"
            + (f"（“{name}”身份）" if name else "")
            + f"{assistance}元，优抚对象医疗补助{youfu_subsidy}元；已由原系统支付，本系统不再支付，计入本年度限额。"
        )
        d = Decision.objects.create(
            bill=bill, person_id=pid, year=year, settled_on=bill.settled_on, town_id=bill.town_id, policy_version="原系统",
            scheme=scheme or "", category=category or "", category_name=name,
            group=(considered.group or "") if considered is not None else "",
            base=base, assistance=assistance, cap=cap, cap_left_before=left_before, cap_left_after=left_after,
            youfu_category=(category or "") if youfu_subsidy else "", youfu_subsidy=youfu_subsidy,
            reasons=[], explanation=explanation,
            layers=[
                {"code": "BASIC", "name": "基本医疗保险", "amount": str(bill.basic_paid)},
                {"code": "CRITICAL", "name": "大病保险", "amount": str(bill.critical_paid)},
                {"code": "ASSISTANCE", "name": scheme_zh, "amount": str(assistance), "scheme": scheme or None,
                 "category": category or None, "base": str(base),
                 "cap_left": None if left_after is None else str(left_after), "source": "原系统核定"},
                {"code": "YOUFU", "name": "优抚对象医疗补助", "amount": str(youfu_subsidy), "source": "原系统核定"},
            ],
            historic=True, decided_by=entered_by, reviewed_by=approved_by, reviewed_at=timezone.now(),
        )
        ledger.add_decision(d, +1)
        return d


def _in_area(user, bill: Bill, what: str, town_id: int | None = -1) -> None:
    """A bill of a person whose town, on the settlement date, was not under the user's district is
    refused (docs/areas.md): read stays possible, the writing is the other district's."""
    check_in_area(user, name=bill.person.name, town_id=bill.town_id if town_id == -1 else town_id, on=bill.settled_on,
                  what=what)


def _lock_bill(bill_id: int) -> Bill:
    try:
        return Bill.objects.select_for_update(of=("self",)).select_related("person", "institution").get(pk=bill_id)
    except Bill.DoesNotExist:
        raise ClaimsError(f"票据{bill_id}不存在。") from None


def bill_decide(*, bill_id: int, user, reason: str = "", retroactive_change=None) -> Decision:
    """Decide (or decide again) a bill with the engine against the database. A bill already
    decided, approved, refused or paid gets a new decision that supersedes the old one; the old
    one's amounts leave the caps and the new ones enter them, under the same lock.
    ``retroactive_change``: the beneficiaries.RetroactiveChange this re-decision answers."""
    if not (user.is_superuser or user.has_role(Role.DISTRICT_CLERK, Role.DISTRICT_REVIEWER)):
        raise ClaimsError("只有区医保经办或审核人员可以核定。")
    with transaction.atomic():
        bill = _lock_bill(bill_id)
        if bill.status == S.HISTORIC:
            raise ClaimsError(f"票据{bill.pk}是原系统已核定并支付的历史票据，不能在本系统重新核定。")
        if bill.status != S.ENTERED and not reason.strip():
            raise ClaimsError("重新核定须说明原因（如身份追溯更正、录入错误）。")
        _in_area(user, bill, "核定", town_id=town_on(bill.person, bill.settled_on))
        return _decide_locked(bill=bill, user=user, reason=reason.strip(), retroactive_change=retroactive_change)


def retroactive_change_redecide(*, change_id: int, user):
    """Decide again, on today's identities, everything a retroactive identity change reaches (see
    claims.retro.change_redecide). Returns a claims.retro.Redecided summary."""
    from .retro import change_redecide

    return change_redecide(change_id=change_id, user=user)


def _check_checker(bill: Bill, decision: Decision, user) -> None:
    if not (user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER)):
        raise ClaimsError("只有区医保审核人员可以审批。")
    if user.pk in (bill.entered_by_id, decision.decided_by_id):
        raise ClaimsError("录入或核定该票据的人员不能审批（经办与审核分离）。")


def decision_approve(*, bill_id: int, user, confirm_provisional: bool = False, note: str = "") -> Decision:
    """The reviewer approves the current decision. Nothing payable → REFUSED (不予救助决定书);
    otherwise APPROVED and payable. A decision under a provisional rule needs ``confirm_provisional``.
    After a re-decision the difference to what was already paid is recorded (recovery / top-up)."""
    with transaction.atomic():
        bill = _lock_bill(bill_id)
        d = bill.decisions.select_for_update().filter(is_current=True).first()
        if bill.status != S.DECIDED or d is None:
            raise ClaimsError(f"票据{bill.pk}当前为“{bill.get_status_display()}”，没有待审批的核定。")
        _check_checker(bill, d, user)
        _in_area(user, bill, "审批", town_id=d.town_id)
        if d.provisional and not confirm_provisional:
            raise ClaimsError(
                "该核定使用了暂行规则（" + "；".join(d.provisional_sources) + "），请核对后勾选“已核对暂行规则”再审批。"
            )
        d.reviewed_by = user
        d.reviewed_at = timezone.now()
        d.provisional_confirmed = d.provisional and confirm_provisional
        d.save(update_fields=["reviewed_by", "reviewed_at", "provisional_confirmed"])
        _record_differences(d, user)
        _advance_change(d, user)
        if d.assistance_payable or d.youfu_payable:
            bill_set_status(bill=bill, to=S.APPROVED, user=user, note=note or "审批同意")
        elif d.total == ZERO:
            # nothing granted (or, after a re-decision, nothing due any more: the recovery is recorded)
            bill_set_status(bill=bill, to=S.REFUSED, user=user, note=note or "审批：不予救助")
        else:
            # a re-decision that grants no more than was already paid
            bill_set_status(bill=bill, to=S.APPROVED, user=user, note=note or "审批同意")
            bill_set_status(bill=bill, to=S.PAID, user=user, note="此前已足额支付，无需补发")
        return d


def decision_refuse(*, bill_id: int, user, reason: str, code: str = "") -> Decision:
    """The reviewer refuses assistance on the bill (e.g. papers not genuine): the caps are released.
    ``code`` is a key of REFUSAL_REASONS (its label and legal basis go on the refusal notice);
    ``reason`` is the reviewer's own explanation."""
    from yfbz.rules.codes import REFUSAL_REASONS

    if not reason.strip():
        raise ClaimsError("不予救助须写明理由。")
    if code not in REFUSAL_REASONS:
        raise ClaimsError("请选择不予救助的理由（每个理由都有其政策依据，打印在不予救助决定书上）。")
    with transaction.atomic():
        bill = _lock_bill(bill_id)
        d = bill.decisions.select_for_update().filter(is_current=True).first()
        if bill.status != S.DECIDED or d is None:
            raise ClaimsError(f"票据{bill.pk}当前为“{bill.get_status_display()}”，不能作不予救助决定。")
        _check_checker(bill, d, user)
        _in_area(user, bill, "作不予救助决定", town_id=d.town_id)
        caps.lock({(d.person_id, d.year)}).add_decision(d, -1)
        d.reviewed_by = user
        d.reviewed_at = timezone.now()
        d.refusal_reason = reason.strip()
        d.refusal_code = code
        d.save(update_fields=["reviewed_by", "reviewed_at", "refusal_reason", "refusal_code"])
        _record_differences(d, user)  # a re-decision refused outright: what was paid is recovered
        bill_set_status(bill=bill, to=S.REFUSED, user=user, note=f"{REFUSAL_REASONS[code][0]}：{reason.strip()}")
        _advance_change(d, user)
        return d


def bill_return(*, bill_id: int, user, reason: str) -> Bill:
    """The reviewer sends a decided bill back for correction: its decision stops counting in the caps."""
    if not reason.strip():
        raise ClaimsError("退回须写明原因。")
    with transaction.atomic():
        bill = _lock_bill(bill_id)
        d = bill.decisions.select_for_update().filter(is_current=True).first()
        if bill.status != S.DECIDED or d is None:
            raise ClaimsError("只有待审批的票据可以退回。")
        _check_checker(bill, d, user)
        _in_area(user, bill, "退回", town_id=d.town_id)
        caps.lock({(d.person_id, d.year)}).add_decision(d, -1)
        d.is_current = False
        d.save(update_fields=["is_current"])
        bill_set_status(bill=bill, to=S.ENTERED, user=user, note=f"退回修改：{reason.strip()}")
        return bill


def bill_update(*, bill_id: int, user, duplicate_reason: str = "", **fields) -> Bill:
    """Correct an entered (or returned) bill before it is decided."""
    if not (user.is_superuser or user.has_role(Role.DISTRICT_CLERK)):
        raise ClaimsError("只有区医保经办人员可以修改票据。")
    with transaction.atomic():
        bill = _lock_bill(bill_id)
        if bill.status != S.ENTERED:
            raise ClaimsError("只有未核定（或已退回）的票据可以修改；已核定的请走重新核定。")
        for k, v in fields.items():
            setattr(bill, k, v)
        _clean(bill)
        _refuse_duplicate(bill, (duplicate_reason or bill.duplicate_reason or "").strip())
        bill.town_id = town_on(bill.person, bill.settled_on)
        _in_area(user, bill, "修改票据")
        bill.save()
        return bill


def _withdraw_payables(d: Decision, reason: str, user) -> None:
    """The payables of a decision no longer due leave any fund request they wait on (funding)."""
    keys = [f"decision:{d.pk}:{fund}" for fund, paid_on in (("ASSISTANCE", d.assistance_paid_on), ("YOUFU", d.youfu_paid_on))
            if paid_on is None]
    if not keys:
        return
    try:
        from funding.services import payable_lines_withdraw
    except ImportError:
        return
    payable_lines_withdraw(source_keys=keys, reason=reason, user=user)


def _advance_change(d: Decision, user) -> None:
    """A reviewed re-decision may finish the retroactive change it answers (REVIEWED once nothing of it waits)."""
    if d.retroactive_change_id:
        from .retro import change_advance

        change_advance(change_id=d.retroactive_change_id, user=user)


def _record_differences(d: Decision, user) -> None:
    """After a re-decision: an overpayment becomes a recovery (receivable), an underpayment a top-up."""
    if d.supersedes_id is None:
        return
    refused = bool(d.refusal_reason)
    for fund, now, paid in (
        ("ASSISTANCE", ZERO if refused else d.assistance, d.prior_paid_assistance),
        ("YOUFU", ZERO if refused else d.youfu_subsidy, d.prior_paid_youfu),
    ):
        diff = now - paid
        if not diff:
            continue
        kind = Adjustment.Kind.TOP_UP if diff > 0 else Adjustment.Kind.RECOVERY
        key = f"decision:{d.pk}:{fund}:{'topup' if diff > 0 else 'recovery'}"
        if Adjustment.objects.filter(source_key=key).exists():
            continue
        why = d.redecision_reason or "重新核定"
        adj = Adjustment.objects.create(
            decision=d,
            person_id=d.person_id,
            town_id=d.town_id,
            fund=fund,
            kind=kind,
            amount=abs(diff),
            source_key=key,
            reason=f"票据{d.bill_id}重新核定（{why}）：已付{paid}元，应付{now}元。",
            created_by=user,
        )
        if kind == Adjustment.Kind.RECOVERY:
            ref = _open_receivable(adj, d, user)
            if ref:
                adj.receivable_ref = ref
                adj.save(update_fields=["receivable_ref"])


def _open_receivable(adj: Adjustment, d: Decision, user) -> str:
    return _open_receivable_for(adj, debtor_name=d.person.name, user=user)


def _open_receivable_for(adj: Adjustment, *, debtor_name: str, user) -> str:
    """Open the recovery in funding when that app offers it; the Adjustment row keeps it regardless."""
    try:
        from funding.services import receivable_open  # type: ignore[attr-defined]
    except ImportError:
        return ""
    try:
        rec = receivable_open(
            source_key=adj.source_key,
            debtor_name=debtor_name,
            fund=adj.fund,
            amount=adj.amount,
            reason=adj.reason,
            user=user,
        )
    except DatabaseError:  # a conflict stays a conflict (yfbz.core.middleware): 操作冲突，请重试
        raise
    except Exception as exc:  # a refusal by funding rolls the approval back, with its reason
        raise ClaimsError(f"追回款登记失败：{exc}") from exc
    return str(getattr(rec, "pk", rec) or "")[:60]


# --- payables (the funding app marks them paid) ---------------------------------------------------
def _parse_key(key: str) -> tuple[str, object, str | None]:
    parts = key.split(":")
    if parts[0] == "decision" and len(parts) in (2, 3) and parts[1].isdigit():
        part = parts[2] if len(parts) == 3 else None
        if part not in (None, "ASSISTANCE", "YOUFU"):
            raise ClaimsError(f"无法识别的应付款标识：{key}")
        return "decision", int(parts[1]), part
    if parts[0] == "settlement-adj" and len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return "settlement-adj", key, None
    if parts[0] == "settlement" and len(parts) in (3, 4):  # settlement:<code>:<YYYY-MM>[:r<n> after a reopening]
        try:
            y, m = (int(x) for x in parts[2].split("-"))
            return "settlement", (parts[1], date(y, m, 1), key), None
        except ValueError:
            pass
    raise ClaimsError(f"无法识别的应付款标识：{key}")


def payables_mark_paid(*, source_keys: list[str], paid_on: date, user) -> int:
    """Mark payables paid. Idempotent: a key already paid is skipped. Returns how many parts changed.
    ``decision:<id>:ASSISTANCE`` / ``decision:<id>:YOUFU`` (or ``decision:<id>`` for both) and
    ``settlement:<institution code>:<YYYY-MM>``. An unknown key refuses the whole call."""
    parsed = [(k, *_parse_key(k)) for k in source_keys]
    changed = 0
    with transaction.atomic():
        dec_ids = sorted({p[2] for p in parsed if p[1] == "decision"})
        decisions = {
            d.pk: d for d in Decision.objects.select_related("bill").filter(pk__in=dec_ids)
        }
        bills = {
            b.pk: b
            for b in Bill.objects.select_for_update().filter(pk__in=sorted({d.bill_id for d in decisions.values()})).order_by("pk")
        }
        decisions = {
            d.pk: d for d in Decision.objects.select_for_update().filter(pk__in=dec_ids).order_by("pk")
        }
        for key, kind, ident, part in parsed:
            if kind == "decision":
                d = decisions.get(ident)
                if d is None:
                    raise ClaimsError(f"应付款{key}：核定不存在。")
                bill = bills[d.bill_id]
                if not d.is_current and d.reviewed_at is not None and not d.refusal_reason:
                    # superseded after it was listed, but the bank paid it: record the money that went
                    # out and carry it into the current decision (what is still due shrinks; an excess
                    # becomes a recovery)
                    n = _mark_decision_paid(d, part, paid_on)
                    if n:
                        _carry_late_payment(bill, user)
                    changed += n
                    continue
                if bill.status not in (S.APPROVED, S.PAID) or not d.is_current:
                    raise ClaimsError(f"应付款{key}：票据{bill.pk}当前为“{bill.get_status_display()}”，不能标记支付。")
                changed += _mark_decision_paid(d, part, paid_on)
                if not _decision_owes(d) and bill.status == S.APPROVED:
                    bill_set_status(bill=bill, to=S.PAID, user=user, note=f"支付日期{paid_on}")
            elif kind == "settlement-adj":
                adj = Adjustment.objects.select_for_update().filter(source_key=ident, kind=Adjustment.Kind.TOP_UP).first()
                if adj is None:
                    raise ClaimsError(f"应付款{key}：没有该笔一站式结算补付。")
                if adj.paid_on is None:
                    adj.paid_on = paid_on
                    adj.save(update_fields=["paid_on"])
                    changed += 1
            else:
                code, month, _key = ident
                sm = (
                    SettlementMonth.objects.select_for_update().select_related("institution")
                    .filter(institution__code=code, month=month)
                    .first()
                )
                if sm is None:
                    raise ClaimsError(f"应付款{key}：没有该机构该月的一站式结算。")
                if sm.status == SettlementMonth.Status.PAID:
                    continue
                if sm.status != SettlementMonth.Status.CONFIRMED or sm.source_key != key:
                    raise ClaimsError(f"应付款{key}：该月结算尚未确认或已重新打开，不能标记支付。")
                sm.paid_on = paid_on
                transition(sm, SettlementMonth.Status.PAID, by=user, reason=f"支付日期{paid_on}",
                                    update_fields=["paid_on"])
                changed += 1
    return changed


def _carry_late_payment(bill: Bill, user) -> None:
    cur = bill.decisions.select_for_update().filter(is_current=True).first()
    if cur is None:
        return
    paid_a, paid_y = _paid_so_far(bill)
    cur.prior_paid_assistance, cur.prior_paid_youfu = paid_a, paid_y
    cur.save(update_fields=["prior_paid_assistance", "prior_paid_youfu"])
    if cur.reviewed_at is None:
        return  # the approval will record the difference
    for fund, now, paid in (("ASSISTANCE", cur.assistance, paid_a), ("YOUFU", cur.youfu_subsidy, paid_y)):
        if paid > now:
            adj = Adjustment.objects.create(
                decision=cur, person_id=cur.person_id, town_id=cur.town_id, fund=fund, kind=Adjustment.Kind.RECOVERY,
                amount=paid - now,
                source_key=f"decision:{cur.pk}:{fund}:late:{Adjustment.objects.filter(decision=cur).count() + 1}",
                reason=f"票据{bill.pk}已被重新核定的旧核定仍获支付：已付{paid}元，应付{now}元。", created_by=user,
            )
            ref = _open_receivable(adj, cur, user)
            if ref:
                adj.receivable_ref = ref
                adj.save(update_fields=["receivable_ref"])


def _decision_owes(d: Decision) -> bool:
    return (d.assistance_payable > 0 and not d.assistance_paid_on) or (d.youfu_payable > 0 and not d.youfu_paid_on)


def _mark_decision_paid(d: Decision, part: str | None, paid_on: date) -> int:
    n = 0
    fields = []
    if part in (None, "ASSISTANCE") and d.assistance_payable > 0 and not d.assistance_paid_on:
        d.assistance_paid_on, d.assistance_paid_amount = paid_on, d.assistance_payable
        fields += ["assistance_paid_on", "assistance_paid_amount"]
        n += 1
    if part in (None, "YOUFU") and d.youfu_payable > 0 and not d.youfu_paid_on:
        d.youfu_paid_on, d.youfu_paid_amount = paid_on, d.youfu_payable
        fields += ["youfu_paid_on", "youfu_paid_amount"]
        n += 1
    if fields:
        d.save(update_fields=fields)
    return n


__all__ = [
    "ClaimsError",
    "Upload",
    "bill_enter",
    "bill_record_historic",
    "bill_update",
    "bill_decide",
    "bill_return",
    "bill_set_status",
    "decision_approve",
    "decision_refuse",
    "payables_mark_paid",
    "retroactive_change_redecide",
]
