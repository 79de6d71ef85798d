"""Decision notices (WeasyPrint): 医疗救助待遇核定通知书 and 不予救助决定书 on A4.

- The document number (e.g. 渝北医保救助〔2025〕0001号) is taken at the first print from a yearly
  counter row locked with select_for_update, and kept on every reprint.
- Every print and reprint writes a NoticePrint row.
- Fonts come from fontconfig (Noto Serif/Sans CJK) and WeasyPrint embeds the subset it uses, so
  the PDF prints the same on any office PC. HarfBuzz's subsetter (libharfbuzz-subset0) makes that
  fast; /healthz says when it is missing.
- Many notices are rendered as ONE HTML document with page breaks, reusing one CSS and one
  FontConfiguration (``render_notices``); a batch is numbered chunk by chunk by one task and its
  chunks are rendered by part tasks on several workers, then joined in order (issue 14).
"""

from __future__ import annotations

import contextlib
import gc
import io
import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from beneficiaries.models import Category
from yfbz.core import display, jobs
from yfbz.rules import Reason
from yfbz.rules.codes import REASON_BASIS, REFUSAL_REASONS, REFUSING_REASONS
from yfbz.rules.engine import LEVEL_ZH

from .models import Bill, Decision, DocumentCounter, Notice, NoticeBatch, NoticeBatchPart, NoticePrint
from .numerals import amount_in_capitals
from .services import ClaimsError, log_bulk

CSS_PATH = Path(settings.BASE_DIR) / "static" / "notices" / "notice.css"
#: WeasyPrint's user-agent rules for the elements a notice uses, in place of its full html5_ua.css (issue 14)
UA_CSS_PATH = Path(settings.BASE_DIR) / "static" / "notices" / "notice_ua.css"
BATCH_CHUNK = 100
PRINTABLE = {Bill.Status.APPROVED, Bill.Status.REFUSED, Bill.Status.PAID}
_tls = threading.local()


def _weasy():
    """One FontConfiguration and one parsed stylesheet per thread, reused for every render."""
    if getattr(_tls, "css", None) is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        _tls.fonts = FontConfiguration()
        _tls.css = CSS(filename=str(CSS_PATH), font_config=_tls.fonts)
        _tls.ua = CSS(filename=str(UA_CSS_PATH), font_config=_tls.fonts)
    return _tls.css, _tls.fonts


def _notice_html(html: str, *, full_ua: bool = False):
    """WeasyPrint's HTML document of the notices, cascaded with notice_ua.css as its user-agent stylesheet
    instead of WeasyPrint's full html5_ua.css (``full_ua``: WeasyPrint's own, for the test that compares the
    two layouts). The CSS cascade matched every rule of the full sheet against every element of a batch
    (~17% of a part's time, issue 14); the notices use a few elements and none of the others' rules."""
    from weasyprint import HTML

    class NoticeHTML(HTML):
        def _ua_stylesheets(self, forms=False):  # WeasyPrint 70: the hook get_all_computed_styles calls
            return [_tls.ua]

    return (HTML if full_ua else NoticeHTML)(string=html, base_url=str(settings.BASE_DIR))


def _date_zh(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


# --- numbers ---------------------------------------------------------------------------------------
def notices_number(*, decisions: list[Decision], on: date | None = None) -> list[Notice]:
    """The decisions' notices, in the given order. Those without one are numbered now, in that order,
    from the year's counter row, locked once for the lot (select_for_update): two printers never
    take the same number, and a batch of 100 costs one lock, not 100.

    Which decisions still need a number is read again once the counter is locked: two batches of the
    same decision at once (a double click on 打印) wait for each other there, and the second finds the
    first one's notice instead of numbering the decision a second time (issue 14)."""
    have = {n.decision_id: n for n in Notice.objects.filter(decision__in=[d.pk for d in decisions])}
    missing = [d for d in decisions if d.pk not in have]
    for d in missing:
        if d.bill.status not in PRINTABLE or d.reviewed_at is None or not d.is_current:
            raise ClaimsError(f"票据{d.bill_id}尚未审批，不能出具决定文书。")
    if missing:
        on = on or timezone.localdate()
        prefix = getattr(settings, "YFBZ_DOC_PREFIX", "渝北医保救助")
        with transaction.atomic():
            DocumentCounter.objects.get_or_create(prefix=prefix, year=on.year)
            counter = DocumentCounter.objects.select_for_update().get(prefix=prefix, year=on.year)
            # numbered by another printer while this one waited for the counter: keep theirs
            have.update({n.decision_id: n for n in Notice.objects.filter(decision__in=[d.pk for d in missing])})
            missing = [d for d in missing if d.pk not in have]
            first = counter.last + 1
            counter.last += len(missing)  # the row is locked: no other printer can take these numbers
            counter.save(update_fields=["last"])
            for i, d in enumerate(missing):
                number = first + i
                have[d.pk] = Notice.objects.create(
                    decision=d,
                    kind=Notice.Kind.REFUSAL if d.bill.status == Bill.Status.REFUSED else Notice.Kind.APPROVAL,
                    year=on.year,
                    number=number,
                    doc_number=f"{prefix}〔{on.year}〕{number:04d}号",
                    issued_on=on,
                )
    out = []
    for d in decisions:
        n = have[d.pk]
        n.decision = d
        out.append(n)
    return out


# --- what a notice says ----------------------------------------------------------------------------
def _layer_detail(layer: dict, d: Decision) -> str:
    parts = []
    if layer.get("category"):
        # the layer's own category (the 优抚 layer of a veteran who is also 低保) by its name, never its code
        name = (d.category_name if layer["category"] == d.category and d.category_name
                else Category.name_of(layer["category"]))
        parts.append(f"身份：{name}")
    if layer.get("ratio"):
        parts.append(f"比例{display.pct(layer['ratio'])}")
    if layer.get("base"):
        parts.append(f"基数{display.money(layer['base'])}元")
    if layer.get("cap_left") is not None and layer.get("scheme"):
        parts.append(f"年度限额剩余{display.money(layer['cap_left'])}元")
    if layer.get("source"):
        parts.append(f"依据{layer['source']}")
    return "；".join(parts)


def refusal_grounds(d: Decision) -> list[dict]:
    """What a refusal notice lists: ONLY the reasons for refusing, each with its legal basis (document
    and clause) from the reason's data (yfbz.rules.codes.REFUSAL_REASONS for a reviewer's refusal,
    REASON_BASIS for the engine's reasons). Never a reason that pays (R100 按规定给予医疗救助), never the
    engine's explanation (it names schemes considered and amounts)."""
    if d.refusal_code in REFUSAL_REASONS:
        text, basis = REFUSAL_REASONS[d.refusal_code]
        return [{"text": text, "basis": basis, "note": d.refusal_reason}]
    if d.refusal_reason:  # refused before reasons had codes: the reviewer's words, no basis recorded
        return [{"text": d.refusal_reason, "basis": "", "note": ""}]
    out, seen = [], set()
    for code in d.reasons:
        try:
            r = Reason(code)
        except ValueError:
            continue
        if r in REFUSING_REASONS and r not in seen:
            seen.add(r)
            out.append({"text": r.zh, "basis": REASON_BASIS[r], "note": ""})
    return out or [{"text": "经核定，本次医疗费用没有应予救助的政策范围内自付费用",
                    "basis": REASON_BASIS[Reason.NOTHING_LEFT_TO_PAY], "note": ""}]


def _explanation_for_notice(text: str) -> str:
    """The decision's explanation without the lines the notice's table and cap line already state
    (the costs per layer, the cap left, what remains to pay): shorter to read and to lay out."""
    keep = []
    for line in text.splitlines():
        if "结算的" in line and "政策范围内费用" in line and line.index("结算的") < 16:
            continue
        if line.startswith(("本年度", "本次结算后个人仍需自付")):
            continue
        keep.append(line)
    # the engine writes plain figures (4000.00): on paper every amount has thousands separators
    return display.amounts_in_text("\n".join(keep))


def _month_end(d: date, months_after: int) -> date:
    import calendar

    y, m = d.year + (d.month - 1 + months_after) // 12, (d.month - 1 + months_after) % 12 + 1
    return date(y, m, calendar.monthrange(y, m)[1])


def refund_how(person) -> str:
    """How a person returns money paid wrongly: the account in YFBZ_REFUND_ACCOUNT (name, bank,
    number) when the bureau has set one, and always in person at the town's service centre."""
    acct = getattr(settings, "YFBZ_REFUND_ACCOUNT", None) or {}
    town = person.town.name if person.town_id else "户籍所在镇街"
    where = f"到{town}便民服务中心或本局服务窗口缴回"
    if acct.get("number"):
        return f"缴入{acct.get('name', '')}（开户银行：{acct.get('bank', '')}，账号：{acct['number']}），或{where}"
    return where


def redecision_context(d: Decision, issued_on: date) -> dict | None:
    """What a notice of a re-decision adds (应退尽退、应补尽补): which earlier notice (number and date)
    it replaces, the amounts before and now, and what the person must return — how and by when — or
    will receive and when. None for a first decision, or when no earlier decision was ever approved
    (nobody was told anything to replace)."""
    from .models import Adjustment
    from .services import _last_approved

    if d.supersedes_id is None:
        return None
    base = _last_approved(d.supersedes)
    if base is None:
        return None
    old_notice = Notice.objects.filter(decision=base).first()
    adjustments = list(Adjustment.objects.filter(decision=d))
    recovery = sum((a.amount for a in adjustments if a.kind == Adjustment.Kind.RECOVERY), Decimal("0.00"))
    top_up = sum((a.amount for a in adjustments if a.kind == Adjustment.Kind.TOP_UP), Decimal("0.00"))
    old_total = Decimal("0.00") if base.refusal_reason else base.total
    new_total = Decimal("0.00") if d.refusal_reason else d.total
    paid_before = d.prior_paid_assistance + d.prior_paid_youfu
    refund_days = int(getattr(settings, "YFBZ_REFUND_DAYS", 30))
    top_up_months = int(getattr(settings, "YFBZ_TOP_UP_MONTHS", 1))
    bill = d.bill
    reviewed = timezone.localdate(d.reviewed_at) if d.reviewed_at else issued_on
    return {
        "reason": d.redecision_reason,
        "replaces_doc": old_notice.doc_number if old_notice else "",
        "replaces_kind": old_notice.get_kind_display() if old_notice else "",
        "replaces_date": _date_zh(old_notice.issued_on if old_notice else timezone.localdate(base.reviewed_at)),
        "old_total": old_total,
        "new_total": new_total,
        "new_total_capitals": amount_in_capitals(new_total),
        "paid_before": paid_before,
        "unpaid_dropped": old_total if (paid_before == 0 and old_total and not top_up and not recovery) else None,
        "recovery": recovery or None,
        "recovery_capitals": amount_in_capitals(recovery) if recovery else "",
        "refund_by": _date_zh(issued_on + timedelta(days=refund_days)),
        "refund_how": refund_how(d.person),
        "top_up": top_up or None,
        "top_up_capitals": amount_in_capitals(top_up) if top_up else "",
        "top_up_by": _date_zh(_month_end(reviewed, top_up_months)),
        "top_up_account": (f"{bill.account_holder or d.person.name}在{bill.bank_name}尾号{bill.bank_account[-4:]}的账户"
                           if bill.bank_account else "你登记的银行账户"),
    }


def notice_context(notice: Notice) -> dict:
    d = notice.decision
    bill = d.bill
    person = d.person
    approval = notice.kind == Notice.Kind.APPROVAL
    layers = []
    if d.pooling_paid:
        layers.append({"name": "职工普通门诊统筹（本局核算）", "detail": "渝医保发〔2023〕32号", "amount": d.pooling_paid})
    for layer in d.layers:
        if layer["code"] == "BASIC" and d.pooling_paid:
            continue
        if layer["code"] == "YOUFU" and not layer.get("scheme"):
            continue
        name = layer["name"] if layer["code"] != "ASSISTANCE" or d.scheme else "医疗救助"
        amount = layer["amount"] if approval or layer["code"] in ("BASIC", "CRITICAL") else "0.00"
        layers.append({"name": name, "detail": _layer_detail(layer, d) if approval else "", "amount": amount})
    if approval and d.scheme and d.cap is not None:
        cap_line = (f"本年度{d.scheme_label}限额{display.money(d.cap)}元，"
                    f"本次核定后剩余{display.money(d.cap_left_after)}元。")
    else:
        cap_line = ""
    payable = d.assistance_payable + d.youfu_payable
    already = d.prior_paid_assistance + d.prior_paid_youfu
    redecision = redecision_context(d, notice.issued_on)
    if redecision is not None:
        already = None  # the re-decision block says what was paid, and what is returned or topped up
    remaining = d.base - (d.assistance + d.youfu_subsidy if approval else 0)
    return {
        "doc_number": notice.doc_number,
        "title": notice.get_kind_display(),
        "approval": approval,
        "person_name": person.name,
        "id_number": person.id_number,
        "town": person.town.name if person.town_id else "",
        "village": person.village,
        "bill_id": bill.pk,
        "institution": bill.institution.name,
        "level": LEVEL_ZH.get(bill.institution.level, ""),
        "kind": bill.get_kind_display(),
        "admitted_on": _date_zh(bill.admitted_on),
        "settled_on": _date_zh(bill.settled_on),
        "total_cost": bill.total_cost,
        "in_policy_cost": bill.in_policy_cost,
        "layers": layers,
        "remaining": remaining,
        "assistance": d.assistance,
        "assistance_capitals": amount_in_capitals(d.assistance),
        "youfu": d.youfu_subsidy,
        "youfu_capitals": amount_in_capitals(d.youfu_subsidy),
        "already_paid": already if already else None,
        "payable": payable,
        "payable_capitals": amount_in_capitals(payable),
        "account_holder": bill.account_holder or person.name,
        "bank_name": bill.bank_name,
        "bank_tail": bill.bank_account[-4:] if bill.bank_account else "",
        "cap_line": cap_line,
        "refusal_grounds": [] if approval else refusal_grounds(d),
        "explanation": _explanation_for_notice(d.explanation) if approval else "",
        "issued_on": _date_zh(notice.issued_on),
        "redecision": redecision,
    }


def render_notices(notices: list[Notice], *, full_ua: bool = False):
    """Lay out the notices as one WeasyPrint document (one HTML, page breaks between notices)."""
    css, fonts = _weasy()
    html = render_to_string(
        "claims/notices.html",
        {
            "notices": [notice_context(n) for n in notices],
            "bureau": getattr(settings, "YFBZ_BUREAU_NAME", "重庆市渝北区医疗保障局"),
            "reconsideration_body": getattr(settings, "YFBZ_RECONSIDERATION_BODY", "重庆市渝北区人民政府"),
        },
    )
    return _notice_html(html, full_ua=full_ua).render(stylesheets=[css], font_config=fonts)


def _pdf(documents) -> bytes:
    if len(documents) == 1:
        return documents[0].write_pdf()
    pages = [p for doc in documents for p in doc.pages]
    return documents[0].copy(pages).write_pdf()


#: what a notice's text reads, loaded with it (a part of 100 notices: 1 query, not 500)
NOTICE_RELATED = ("decision", "decision__bill", "decision__bill__institution", "decision__person",
                  "decision__person__town")


def _decisions(ids) -> list[Decision]:
    by_id = {
        d.pk: d
        for d in Decision.objects.filter(pk__in=ids).select_related(
            "bill", "bill__institution", "person", "person__town"
        )
    }
    return [by_id[i] for i in ids if i in by_id]


def notice_print(*, decision: Decision, user) -> tuple[bytes, Notice]:
    """Print (or reprint) one decision's notice here, in the calling process (the demo data, the bench,
    tests). The pages never call it: 打印 on a bill queues a one-notice batch (``notice_print_queue``)
    so that WeasyPrint runs in a Celery worker, not in a web worker (issue 14). The caller has checked
    the user may see the decision. A read-only role (审计) sees a notice already issued and changes
    nothing: no number is taken, no print is recorded (issue 9, finding 8)."""
    from yfbz.core.middleware import is_read_only

    if is_read_only(user):
        notice = Notice.objects.filter(decision=decision).first()
        if notice is None:
            raise ClaimsError(NOT_ISSUED_READ_ONLY)
        return _pdf([render_notices([notice])]), notice
    with transaction.atomic():
        notice = notices_number(decisions=_decisions([decision.pk]))[0]
        reprint = NoticePrint.objects.filter(notice=notice).exists()
        NoticePrint.objects.create(notice=notice, by=user, reprint=reprint)
    return _pdf([render_notices([notice])]), notice


# --- batches ---------------------------------------------------------------------------------------
NOT_ISSUED_READ_ONLY = "该决定书尚未出具。审计岗位只能查看已出具的决定书，不能出具（出具会占用文号）。"


def notice_batch_create(*, user, decision_ids: list[int], read_only: bool = False) -> NoticeBatch:
    """Queue a batch (ids already filtered to what the user may see); the task runs after commit.

    ``read_only``: render notices already issued, taking no number and recording no print — the only
    kind a read-only role (审计) may ask for, and only of decisions whose notice exists."""
    from yfbz.core.middleware import is_read_only

    if is_read_only(user) and not read_only:
        raise ClaimsError("审计岗位只能查看，不能生成打印批次（会占用文号）。")
    ids = list(dict.fromkeys(int(i) for i in decision_ids))
    if not ids:
        raise ClaimsError("请至少选择一份核定。")
    if read_only:
        issued = set(Notice.objects.filter(decision__in=ids).values_list("decision_id", flat=True))
        if any(i not in issued for i in ids):
            raise ClaimsError(NOT_ISSUED_READ_ONLY)
    else:
        printable = set(
            Decision.objects.filter(pk__in=ids, is_current=True, reviewed_at__isnull=False, bill__status__in=PRINTABLE)
            .values_list("pk", flat=True)
        )
        not_ready = [i for i in ids if i not in printable]
        if not_ready:
            raise ClaimsError(f"以下核定尚未审批，不能打印：{', '.join(map(str, not_ready[:20]))}")
    if read_only:
        why = f"查看已出具的决定文书{len(ids)}份（不占文号，不记打印）"
    else:
        why = "打印决定文书" if len(ids) == 1 else f"批量打印{len(ids)}份"
    with transaction.atomic():
        batch = NoticeBatch.objects.create(requested_by=user, decision_ids=ids, progress_total=len(ids),
                                           read_only=read_only)
        jobs.queue(batch, by=user, reason=why)
        from .tasks import notice_batch

        transaction.on_commit(lambda: notice_batch.delay(batch.pk))
    return batch


#: a second 打印 of the same notice this soon after the first, while it waits, is the same job
DOUBLE_CLICK_SECONDS = 60


def notice_print_queue(*, user, decision: Decision) -> NoticeBatch:
    """Print (or reprint) one decision's notice from its bill's page (issue 14): a batch of that one
    decision, rendered by a Celery task like any batch — the web process never lays out a PDF. The
    caller has checked the user may see the decision (``selectors.decision_for``). A read-only role
    gets a read-only batch (an issued notice, no number, no print record). A batch of the same
    decision that this user asked for in the last minute and that still waits is reused (a double
    click makes one job); two at once are both fine — the number is taken once (``notices_number``),
    each records a print."""
    from yfbz.core.middleware import is_read_only

    read_only = is_read_only(user)
    pending = (NoticeBatch.objects.defer("pdf")
               .filter(requested_by=user, decision_ids=[decision.pk], read_only=read_only,
                       status__in=NoticeBatch.JOB.pending,
                       requested_at__gte=timezone.now() - timedelta(seconds=DOUBLE_CLICK_SECONDS))
               .order_by("-pk").first())
    if pending is not None and not jobs.abandoned(pending):
        return pending
    return notice_batch_create(user=user, decision_ids=[decision.pk], read_only=read_only)


def notice_batch_file_name(batch: NoticeBatch) -> str:
    """The PDF's name: a single notice keeps the name it always had (``{文号}-{文书}``), a batch says so."""
    if len(batch.decision_ids) == 1:
        notice = Notice.objects.filter(decision=batch.decision_ids[0]).first()
        if notice is not None:
            return f"{notice.doc_number}-{notice.get_kind_display()}"
    return f"医疗救助决定文书-打印批次{batch.pk}"


def notice_batch_render(*, batch_id: int) -> bool:
    """Coordinate a queued batch (issue 14, jobs spread over workers; yfbz.core.jobs: one coordinator at
    a time, any error fails the batch with the reason in Chinese, "重新运行" resumes it).

    Here, BATCH_CHUNK decisions at a time, each in its own transaction under the batch's token: the
    chunk's notices are numbered, their prints recorded and a ``NoticeBatchPart`` row created — a
    chunk that already has its row (a rerun) is skipped, so nothing is numbered or recorded twice.
    Then the CPU-heavy rendering goes to the workers: one ``claims.notice_batch_part`` task per part
    not rendered yet (a Celery chord), and ``claims.notice_batch_merge`` joins the parts' PDFs in order
    and marks the batch done under the same token check. With CELERY_TASK_ALWAYS_EAGER all of it runs
    inline. Returns True when the batch was finished here (inline), False when its parts were sent."""
    from celery import chord

    from .tasks import notice_batch_merge, notice_batch_part

    def work(token: str) -> bool:
        batch = NoticeBatch.objects.select_related("requested_by").get(pk=batch_id)
        ids = batch.decision_ids
        have = set(NoticeBatchPart.objects.filter(batch_id=batch_id).values_list("index", flat=True))
        for index, i in enumerate(range(0, len(ids), BATCH_CHUNK)):
            if index in have:
                continue
            with transaction.atomic():
                if not jobs.still_mine(NoticeBatch, batch_id, token):
                    return False
                if batch.read_only:  # notices already issued: no number taken, no print recorded
                    chunk = ids[i : i + BATCH_CHUNK]
                    by_decision = {n.decision_id: n for n in Notice.objects.filter(decision__in=chunk)}
                    if len(by_decision) < len(chunk):
                        raise ClaimsError(NOT_ISSUED_READ_ONLY)
                    NoticeBatchPart.objects.create(batch_id=batch_id, index=index,
                                                   notice_ids=[by_decision[d].pk for d in chunk])
                    continue
                notices = notices_number(decisions=_decisions(ids[i : i + BATCH_CHUNK]))
                printed = set(NoticePrint.objects.filter(notice__in=notices).values_list("notice_id", flat=True))
                NoticePrint.objects.bulk_create(
                    [NoticePrint(notice=n, by=batch.requested_by, reprint=n.pk in printed, batch=batch) for n in notices]
                )
                NoticeBatchPart.objects.create(batch_id=batch_id, index=index, notice_ids=[n.pk for n in notices])
        todo = list(
            NoticeBatchPart.objects.filter(batch_id=batch_id, rendered_at__isnull=True).values_list("pk", flat=True)
        )
        done = sum(len(n) for n in NoticeBatchPart.objects.filter(batch_id=batch_id, rendered_at__isnull=False)
                   .values_list("notice_ids", flat=True))
        NoticeBatch.objects.filter(pk=batch_id).update(progress_done=done)
        if not todo:
            return bool(notice_batch_merge_parts(batch_id=batch_id, token=token))
        result = chord(notice_batch_part.si(pk, token) for pk in todo)(notice_batch_merge.si(batch_id, token))
        if NoticeBatch.objects.filter(pk=batch_id, status=NoticeBatch.Status.DONE).exists():
            return True  # eager: the parts and the merge ran inline
        del result
        return False

    return bool(jobs.run(NoticeBatch, batch_id, work))


def notice_batch_part_render(*, part_id: int, token: str) -> bool:
    """Render one part's notices (numbered already) into its PDF. Idempotent: a rendered part, or one
    whose batch is no longer claimed by ``token`` (failed, rerun), is left alone. Any error fails the
    batch with the reason in Chinese; "重新运行" then renders only the parts still missing."""
    part = NoticeBatchPart.objects.filter(pk=part_id).values("batch_id", "notice_ids", "rendered_at").first()
    if part is None or part["rendered_at"] is not None:
        return False
    batch_id = part["batch_id"]
    if not NoticeBatch.objects.filter(pk=batch_id, status=NoticeBatch.Status.RUNNING, job_token=token).exists():
        return False
    with jobs.helping(NoticeBatch, batch_id, token):  # the batch is alive while its parts work (no 重新运行 offered)
        return _part_render(part, part_id, batch_id, token)


@contextlib.contextmanager
def _gc_paused():
    """Python's cyclic garbage collector off while a part is laid out and written. WeasyPrint makes
    a great many objects for 100 notices (boxes, styles, text runs), so the collector ran over and over
    through a growing heap: ~10% of a part's CPU time (issue 14, docs/scaling.md). The part's garbage is
    collected when the collector next runs after it (peak memory of three 100-notice renders in a row:
    within ~15 MiB of the same with the collector on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _part_render(part: dict, part_id: int, batch_id: int, token: str) -> bool:
    try:
        by_id = {n.pk: n for n in Notice.objects.filter(pk__in=part["notice_ids"]).select_related(*NOTICE_RELATED)}
        with _gc_paused():
            document = render_notices([by_id[i] for i in part["notice_ids"]])
            pdf = document.write_pdf()
        with transaction.atomic():
            if not jobs.still_mine(NoticeBatch, batch_id, token):
                return False
            stored = NoticeBatchPart.objects.filter(pk=part_id, rendered_at__isnull=True).update(
                pdf=pdf, pages=len(document.pages), rendered_at=timezone.now()
            )
            if stored:
                NoticeBatch.objects.filter(pk=batch_id).update(progress_done=F("progress_done") + len(part["notice_ids"]))
        return bool(stored)
    except Exception as exc:  # noqa: BLE001 — recorded on the batch in Chinese, offered "重新运行"
        jobs.fail(NoticeBatch, batch_id, token, exc)
        return False


def notice_batch_merge_parts(*, batch_id: int, token: str) -> bool:
    """The last step: join the parts' PDFs in order (pypdf) and mark the batch done, only while
    ``token`` still holds the batch and every part is rendered (else nothing: a failed part has failed
    the batch already, and a rerun sends its own merge)."""
    from pypdf import PdfWriter

    try:
        with jobs.helping(NoticeBatch, batch_id, token), transaction.atomic():
            if not jobs.still_mine(NoticeBatch, batch_id, token):
                return False
            parts = NoticeBatchPart.objects.filter(batch_id=batch_id).order_by("index")
            if parts.filter(rendered_at__isnull=True).exists():
                return False
            batch = NoticeBatch.objects.select_related("requested_by").get(pk=batch_id)
            writer = PdfWriter()
            for data in parts.values_list("pdf", flat=True).iterator(chunk_size=20):
                writer.append(io.BytesIO(bytes(data)))
            out = io.BytesIO()
            writer.write(out)
            jobs.done(NoticeBatch, batch_id, token, pdf=out.getvalue(), finished_at=timezone.now(),
                      progress_done=len(batch.decision_ids))
            parts.update(pdf=None)  # the merged PDF is the one kept; the parts keep their pages and time
            if not batch.read_only:  # a look at issued notices is no print
                _log_batch(batch, len(batch.decision_ids))
        return True
    except Exception as exc:
        text = jobs.fail(NoticeBatch, batch_id, token, exc)
        raise jobs.JobError(text) from exc


def _log_batch(batch: NoticeBatch, count: int) -> None:
    log_bulk(batch, batch.requested_by, {"批量打印决定文书": count})
