"""Claims pages. Every object a user reaches comes from ``visible_to(request.user)``; every change
goes through claims.services / claims.settlement / claims.notices (which check roles again)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from yfbz.core.display import money as display_money
from yfbz.core.downloads import download
from yfbz.core.errors import YfbzError
from yfbz.core.exports import offload
from yfbz.core.middleware import is_read_only, read_only_allowed
from yfbz.core.paging import EstimatedPaginator
from yfbz.core.roles import Role
from yfbz.files.reader import describe
from yfbz.policy.selectors import policy_in_force
from yfbz.rules import Reason
from yfbz.rules.codes import REFUSAL_REASONS

from . import selectors
from .exports import bills_xlsx, settlement_lines_xlsx
from .filters import BillFilter, SettlementLineFilter
from .forms import ApproveForm, BillForm, PlatformUploadForm, ReasonForm, ResolveForm, SettlementUploadForm
from .models import (
    Bill,
    BillAttachment,
    Decision,
    Notice,
    NoticeBatch,
    PlatformSettlementFile,
    SettlementFile,
    SettlementFileStatusChange,
    SettlementLine,
)
from .notices import PRINTABLE, notice_batch_create, notice_batch_file_name, notice_print_queue
from .platform import other_period_lines, platform_file_queue, platform_file_resplit, unknown_institutions
from .services import (
    ClaimsError,
    Upload,
    bill_attach,
    bill_decide,
    bill_enter,
    bill_return,
    bill_update,
    decision_approve,
    decision_refuse,
    engine_decide,
    explanation_of,
    layers_json,
)
from .settlement import (
    settlement_file_upload,
    settlement_line_resolve,
    settlement_month_confirm,
    settlement_month_reopen,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VIEW_BILL = "claims.view_bill"


def _xlsx(data: bytes, name: str, full: bool = False) -> HttpResponse:
    return download(data, name, f"{timezone.localdate():%Y%m%d}", ext="xlsx", full=full)


def _pdf(data: bytes, name: str) -> HttpResponse:
    return download(data, name, ext="pdf", inline=True)


# --- bills ----------------------------------------------------------------------------------------
def _bill_filter(request):
    return BillFilter(request.GET, queryset=selectors.bills_for(request.user).order_by("-settled_on", "-id"))


@login_required
@permission_required(VIEW_BILL, raise_exception=True)
def bill_list(request):
    f = _bill_filter(request)
    page = EstimatedPaginator(f.qs, 50).get_page(request.GET.get("page"))
    can_print = request.user.has_perm("claims.view_notice")
    return render(request, "claims/bill_list.html", {"filter": f, "page": page, "can_print": can_print,
                                                      "printable": PRINTABLE})


@login_required
@permission_required(VIEW_BILL, raise_exception=True)
def bill_export(request):
    from yfbz.core.pii import full_numbers_requested

    full = full_numbers_requested(request, what="导出手工报销票据（含完整号码）", model=Bill)
    if (queued := offload(request, "claims.bills", full=full)) is not None:
        return queued  # over the limit: built by a task, downloaded from the job's page (issue 14)
    return _xlsx(bills_xlsx(_bill_filter(request).qs, full=full), "手工报销票据", full)


def _layers_display(layers: list[dict], names) -> list[dict]:
    """Stored layer lines with Chinese names for the scheme and the identity (codes kept in the title)."""
    from yfbz.rules.codes import SCHEME_ZH, YOUFU, YOUFU_ZH
    from yfbz.rules.money import percent

    out = []
    for layer in layers:
        scheme, cat = layer.get("scheme"), layer.get("category")
        out.append({
            **{k: layer.get(k) for k in ("name", "amount", "ratio", "base", "cap_left", "source")},
            "scheme": (YOUFU_ZH if scheme == YOUFU else SCHEME_ZH.get(scheme, scheme)) if scheme else "",
            "category": names.get(cat, cat) if cat else "",
            "ratio": percent(Decimal(layer["ratio"])) if layer.get("ratio") else "",
        })
    return out


def _preview(form: BillForm):
    """The engine's decision on the typed bill, with this year's caps as they stand (not saved)."""
    bill = Bill(**form.bill_fields())
    used = selectors.caps_of(bill.person, bill.settled_on.year)
    ed, pooling, policy = engine_decide(bill=bill, used=used)
    return {
        "decision": ed,
        "explanation": explanation_of(ed, pooling),
        "reasons": [r.zh for r in ed.reasons],
        "category_name": policy.category_name(ed.category),
        "layers": _layers_display(layers_json(ed), policy.categories),
        "pooling": pooling,
    }


def _bill_form(request, bill: Bill | None):
    """Enter a new bill, or correct an entered / sent-back one; 试算 previews, 保存并核定 saves and decides."""
    preview = None
    initial = {"id_number": bill.person.id_number} if bill else None
    form = BillForm(request.POST or None, request.FILES or None, user=request.user, instance=bill, initial=initial)
    catalogue = sorted(policy_in_force(timezone.localdate()).catalogue)
    if request.method == "POST" and form.is_valid():
        try:
            if "preview" in request.POST:
                preview = _preview(form)
            else:
                uploads = [
                    Upload(f.name, f.content_type, f.read()) for f in form.cleaned_data.get("attachments") or []
                ]
                with transaction.atomic():
                    if bill is None:
                        bill = bill_enter(user=request.user, attachments=uploads, **form.bill_fields())
                    else:
                        bill = bill_update(bill_id=bill.pk, user=request.user, **form.bill_fields())
                        for up in uploads:
                            bill_attach(bill=bill, upload=up, user=request.user)
                    d = bill_decide(bill_id=bill.pk, user=request.user)
                messages.success(request, f"票据{bill.pk}已保存并核定：{d.scheme_label} {d.assistance}元，待审核人员审批。")
                return redirect("claims:bill-detail", bill.pk)
        except YfbzError as exc:
            messages.error(request, str(exc))
    return render(request, "claims/bill_form.html", {
        "form": form, "preview": preview, "catalogue": catalogue, "bill": bill, **BILL_FORM_STEPS,
        "card": _person_card_of(request, form),
    })


#: the bill form in the order a clerk reads a bill: the person, the stay or visit, the insurance layers, the payee
BILL_FORM_STEPS = {
    "visit_fields": ("institution", "kind", "disease", "admitted_on", "settled_on"),
    "insurance_fields": ("total_cost", "in_policy_cost", "basic_paid", "critical_paid", "employee_pooling", "employment",
                         "tier", "fixed_items_paid", "pharmacy", "prescribing_level"),
    "payee_fields": ("account_holder", "bank_name", "bank_account"),
    "other_fields": ("note", "attachments", "duplicate_reason"),
}


def _person_card_of(request, form) -> dict:
    """The person card as the form stands (a form shown again, or a bill being corrected)."""
    if form.is_bound:
        return person_card(request.user, form.data.get("id_number", ""), form.data.get("settled_on", ""))
    number = (form.initial or {}).get("id_number")
    if not number:
        return {"hint": PERSON_HINT}
    return person_card(request.user, number, form.instance.settled_on.isoformat() if form.instance.settled_on else "")


@login_required
@permission_required("claims.add_bill", raise_exception=True)
def bill_new(request):
    return _bill_form(request, None)


@login_required
@permission_required("claims.change_bill", raise_exception=True)
def bill_edit(request, pk):
    bill = selectors.bill_for(request.user, pk)
    if bill.status != Bill.Status.ENTERED:
        messages.error(request, "只有未核定（或已退回）的票据可以修改；已核定的请走重新核定。")
        return redirect("claims:bill-detail", pk)
    return _bill_form(request, bill)


@login_required
@permission_required(VIEW_BILL, raise_exception=True)
def bill_detail(request, pk):
    bill = selectors.bill_for(request.user, pk)
    decisions = list(selectors.decisions_of(bill))
    current = next((d for d in decisions if d.is_current), None)
    user = request.user
    is_reviewer = user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER)
    ctx = {
        "bill": bill,
        "decision": current,
        "decisions": decisions,
        "reasons": [Reason(r).zh for r in current.reasons] if current else [],
        "layers": _layers_display(current.layers, policy_in_force(current.settled_on).categories) if current else [],
        "history": selectors.history_of(bill),
        "attachments": BillAttachment.objects.filter(bill=bill).only("pk", "file_name", "size", "uploaded_at"),
        "can_review": is_reviewer and bill.status == Bill.Status.DECIDED and current is not None
        and user.pk not in (bill.entered_by_id, current.decided_by_id),
        "can_redecide": (user.is_superuser or user.has_role(Role.DISTRICT_CLERK, Role.DISTRICT_REVIEWER))
        and bill.status not in (Bill.Status.ENTERED, Bill.Status.HISTORIC),
        "can_decide": (user.is_superuser or user.has_role(Role.DISTRICT_CLERK)) and bill.status == Bill.Status.ENTERED,
        "can_print": current is not None and bill.status in PRINTABLE and current.reviewed_at is not None,
        "read_only": is_read_only(user),
        "approve_form": ApproveForm(),
        "reason_form": ReasonForm(),
        "refusal_reasons": [(k, v[0]) for k, v in REFUSAL_REASONS.items()],
    }
    ctx["chain"] = _decision_chain(decisions)
    if current is not None:
        notice = Notice.objects.filter(decision=current).first()
        ctx["notice"] = notice
        ctx["prints"] = notice.prints.select_related("by") if notice else []
    return render(request, "claims/bill_detail.html", ctx)


def _decision_chain(decisions: list[Decision]) -> list[dict]:
    """The bill's decisions oldest first, each with its notice, the difference to the decision the
    person was last told, and the recoveries (with their receivable) and top-ups it gave."""
    from .models import Adjustment

    ids = [d.pk for d in decisions]
    notices = {n.decision_id: n for n in Notice.objects.filter(decision_id__in=ids)}
    adjustments: dict[int, list] = {}
    for a in Adjustment.objects.filter(decision_id__in=ids).order_by("pk"):
        adjustments.setdefault(a.decision_id, []).append(a)
    receivables = {}
    keys = [a.source_key for adjs in adjustments.values() for a in adjs if a.kind == Adjustment.Kind.RECOVERY]
    if keys:
        from funding.models import Receivable

        receivables = {r.source_key: r for r in Receivable.objects.filter(source_key__in=keys)}
    withdrawn = set()
    try:
        from funding.models import PayableLine

        withdrawn = set(PayableLine.objects.filter(source_key__in=[f"decision:{i}:{f}" for i in ids for f in ("ASSISTANCE", "YOUFU")],
                                                   status="withdrawn").values_list("source_key", flat=True))
    except ImportError:
        pass
    out = []
    for d in sorted(decisions, key=lambda d: d.pk):
        items = []
        if any(k.startswith(f"decision:{d.pk}:") for k in withdrawn):
            items.append({"adj": None, "state": "原核定未支付，已从资金申请撤回"})
        for a in adjustments.get(d.pk, []):
            rec = receivables.get(a.source_key)
            if a.kind == Adjustment.Kind.RECOVERY:
                state = (f"应收款{rec.get_status_display()}，已追回{display_money(rec.recovered)}元" if rec else "已登记待追回")
            else:
                paid_on = d.assistance_paid_on if a.fund == "ASSISTANCE" else d.youfu_paid_on
                state = f"已于{paid_on:%Y-%m-%d}支付" if paid_on else "待支付（列入资金申请）"
            items.append({"adj": a, "state": state})
        out.append({"d": d, "notice": notices.get(d.pk), "adjustments": items,
                    "difference": d.assistance_difference + d.youfu_difference})
    return out


def _act(request, pk, action):
    selectors.bill_for(request.user, pk)  # 404 unless visible
    try:
        msg = action()
        messages.success(request, msg)
    except YfbzError as exc:
        messages.error(request, str(exc))
    return redirect("claims:bill-detail", pk)


@login_required
@require_POST
@permission_required("claims.change_bill", raise_exception=True)
def bill_approve(request, pk):
    form = ApproveForm(request.POST)
    form.is_valid()

    def go():
        d = decision_approve(bill_id=pk, user=request.user,
                             confirm_provisional=form.cleaned_data.get("confirm_provisional", False),
                             note=form.cleaned_data.get("note", ""))
        return f"已审批：{d.bill.get_status_display()}。"

    return _act(request, pk, go)


def _reason(request) -> str:
    form = ReasonForm(request.POST)
    return form.cleaned_data["reason"] if form.is_valid() else ""


def _with_reason(service, message):
    """An action that needs a written reason: POST only, calls ``service``, reports ``message(result)``."""

    @login_required
    @require_POST
    @permission_required("claims.change_bill", raise_exception=True)
    def view(request, pk):
        reason = _reason(request)
        return _act(request, pk, lambda: message(service(bill_id=pk, user=request.user, reason=reason)))

    return view


@login_required
@require_POST
@permission_required("claims.change_bill", raise_exception=True)
def bill_refuse(request, pk):
    """不予救助: a reason chosen from REFUSAL_REASONS (each with its basis) and the reviewer's own words."""
    def go():
        decision_refuse(bill_id=pk, user=request.user, reason=_reason(request), code=request.POST.get("code", ""))
        return "已作出不予救助决定。"

    return _act(request, pk, go)

bill_send_back = _with_reason(bill_return, lambda b: "已退回修改。")
bill_redecide = _with_reason(bill_decide, lambda d: f"已核定：{d.scheme_label} {display_money(d.assistance)}元。")


@login_required
@permission_required(VIEW_BILL, raise_exception=True)
def attachment_download(request, pk):
    from yfbz.core.uploads import SCAN_TYPES, attachment_response

    att = get_object_or_404(BillAttachment.objects.visible_to(request.user), pk=pk)
    # papers stored before the bytes were checked keep their browser-given type: serve those as octet-stream
    ctype = att.content_type if att.content_type in SCAN_TYPES.values() else "application/octet-stream"
    return attachment_response(att.data, file_name=att.file_name, content_type=ctype)


# --- notices --------------------------------------------------------------------------------------
@login_required
@permission_required(VIEW_BILL, raise_exception=True)
def notice_pdf(request, pk):
    """The old address of a notice (links and bookmarks from before issue 14). It printed the notice in
    the request and took a number on a GET; now it only leads to the page with the 打印 button."""
    d = selectors.decision_for(request.user, pk)  # another town's decision: 404, as before
    return redirect("claims:notice-print", d.pk)


@read_only_allowed  # the auditor's POST asks for a read-only batch: issued notices, no number, no print
@login_required
@permission_required(VIEW_BILL, raise_exception=True)
def notice_print(request, pk):
    """One decision's notice (issue 14). GET: what will happen and the button — nothing changes. POST:
    a batch of this one notice for a Celery worker (numbered at the first print, the print recorded;
    for a read-only role only an issued notice, nothing taken or recorded), then its job page."""
    d = selectors.decision_for(request.user, pk)
    if request.method == "POST":
        try:
            batch = notice_print_queue(user=request.user, decision=d)
        except YfbzError as exc:
            messages.error(request, str(exc))
            return redirect("claims:bill-detail", d.bill_id)
        return redirect("claims:notice-batch", batch.pk)
    notice = Notice.objects.filter(decision=d).first()
    return render(request, "claims/notice_print.html", {
        "decision": d, "bill": d.bill, "notice": notice, "read_only": is_read_only(request.user),
        "printable": d.is_current and d.reviewed_at is not None and d.bill.status in PRINTABLE,
        "title": "不予救助决定书" if d.bill.status == Bill.Status.REFUSED else "医疗救助待遇核定通知书",
    })


@login_required
@require_POST
@permission_required(VIEW_BILL, raise_exception=True)
def notice_batch_new(request):
    if request.POST.get("all_filtered"):
        qs = _bill_filter(request).qs.filter(status__in=PRINTABLE)
        ids = list(Decision.objects.visible_to(request.user).filter(bill__in=qs, is_current=True, reviewed_at__isnull=False)
                   .order_by("bill__person__town__code", "pk").values_list("pk", flat=True)[:5000])
    else:
        wanted = [int(i) for i in request.POST.getlist("decision") if i.isdigit()]
        ids = list(Decision.objects.visible_to(request.user).filter(pk__in=wanted).values_list("pk", flat=True))
    try:
        batch = notice_batch_create(user=request.user, decision_ids=ids)
    except YfbzError as exc:
        messages.error(request, str(exc))
        return redirect(reverse("claims:bill-list") + "?" + request.GET.urlencode())
    return redirect("claims:notice-batch", batch.pk)


PERSON_HINT = "请输入18位公民身份号码，输入完整后自动显示此人的身份和本年度剩余限额。"


def person_card(user, raw: str, settled_on: str) -> dict:
    """Whose bill it is, for the bill form: name, town, the identities held on the settlement date and
    what each benefit's annual cap has left this year (the engine's own view: beneficiaries.selectors.benefits_on)."""
    from datetime import date as _date

    from beneficiaries.models import Person
    from beneficiaries.selectors import benefits_on
    from yfbz.rules.idcard import IdNumberError, parse_id_number

    raw = (raw or "").strip()
    try:
        on = _date.fromisoformat(settled_on or "")
    except ValueError:
        on = timezone.localdate()
    if not 1900 <= on.year <= 2100:
        on = timezone.localdate()
    card = {"on": on}
    if len(raw) < 18:
        return {**card, "hint": PERSON_HINT}
    try:
        number = parse_id_number(raw).number
    except IdNumberError as exc:
        return {**card, "error": f"公民身份号码有误：{exc}"}
    person = Person.objects.visible_to(user).select_related("town").filter(id_number=number).first()
    if person is None:
        return {**card, "error": "没有找到此人（或不在您的管辖范围内）。请先在人员库中登记。"}
    benefits = benefits_on(person, on)
    used = selectors.caps_of(person, on.year)
    for row in benefits["rows"]:
        cap, scheme = row.get("cap"), row.get("scheme")
        row["used"] = used.get(scheme, Decimal("0.00")) if scheme else None
        row["left"] = max(cap - row["used"], Decimal("0.00")) if cap is not None and scheme else None
    return {**card, "person": person, "benefits": benefits}


@login_required
@permission_required("claims.add_bill", raise_exception=True)
def bill_person_card(request):
    """The bill form's first step, asked by htmx as the ID number (or the settlement date) is typed."""
    card = person_card(request.user, request.GET.get("id_number", ""), request.GET.get("settled_on", ""))
    return render(request, "claims/_person_card.html", card)


@login_required
@permission_required(VIEW_BILL, raise_exception=True)
def notice_batch_list(request):
    """The user's past notice batches (a batch's PDF is for the person who asked for it)."""
    batches = NoticeBatch.objects.defer("pdf").filter(requested_by=request.user).order_by("-requested_at")
    page = Paginator(batches, 50).get_page(request.GET.get("page"))
    singles = {b.decision_ids[0] for b in page if len(b.decision_ids) == 1}  # one notice: say whose bill
    bills = dict(Decision.objects.visible_to(request.user).filter(pk__in=singles)
                 .values_list("pk", "bill_id")) if singles else {}
    for b in page:
        b.bill_id = bills.get(b.decision_ids[0]) if len(b.decision_ids) == 1 else None
    return render(request, "claims/notice_batch_list.html", {"page": page})


def _batch_pending(batch: NoticeBatch) -> bool:
    """Still to be finished by a worker (the page polls): queued, or running, and not stalled — between
    two of its steps a batch is alive (yfbz.core.jobs); a killed worker's batch is offered 重新运行."""
    from yfbz.core import jobs

    return batch.status in NoticeBatch.JOB.pending and not jobs.stalled(batch)


@login_required
@permission_required(VIEW_BILL, raise_exception=True)
def notice_batch_detail(request, pk):
    batch = get_object_or_404(NoticeBatch.objects.defer("pdf"), pk=pk, requested_by=request.user)
    if request.GET.get("download") and batch.status == NoticeBatch.Status.DONE:
        pdf = NoticeBatch.objects.values_list("pdf", flat=True).get(pk=pk)
        return _pdf(bytes(pdf), notice_batch_file_name(batch))
    single = None
    if len(batch.decision_ids) == 1:  # one notice printed from its bill's page
        single = (Decision.objects.visible_to(request.user).select_related("bill", "person")
                  .filter(pk=batch.decision_ids[0]).first())
    notice = Notice.objects.filter(decision=single).first() if single else None
    return render(request, "claims/notice_batch.html", {
        "batch": batch, "single": single, "notice": notice, "pending": _batch_pending(batch),
    })


@login_required
@permission_required(VIEW_BILL, raise_exception=True)
def notice_batch_progress(request, pk):
    """The batch page's progress (static/js/progress.js polls it and reloads the page when finished)."""
    batch = get_object_or_404(NoticeBatch.objects.defer("pdf"), pk=pk, requested_by=request.user)
    pending = _batch_pending(batch)
    return JsonResponse({"phase": batch.get_status_display(), "done": batch.progress_done,
                         "total": batch.progress_total, "finished": not pending},
                        json_dumps_params={"ensure_ascii": False})


# --- one-stop settlements --------------------------------------------------------------------------
@login_required
@permission_required("claims.view_settlementline", raise_exception=True)
def settlement_list(request):
    platform = request.method == "POST" and "platform" in request.POST
    form = SettlementUploadForm(None if platform else request.POST or None, None if platform else request.FILES or None)
    platform_form = PlatformUploadForm(request.POST if platform else None, request.FILES if platform else None,
                                       prefix="platform")
    if platform:
        if not request.user.has_perm("claims.add_settlementfile"):
            messages.error(request, "无权导入结算文件。")
        elif platform_form.is_valid():
            up = platform_form.cleaned_data["file"]
            try:
                pf = platform_file_queue(month=platform_form.cleaned_data["month"], file_name=up.name, data=up.read(),
                                         user=request.user)
                messages.success(request, f"平台结算明细“{pf.file_name}”已上传，后台正在读取并按机构拆分，"
                                          "拆分后各机构的文件自动导入核对（见下方“最近上传的平台结算明细”）。")
                return redirect("claims:settlement-list")
            except YfbzError as exc:
                messages.error(request, str(exc))
    elif request.method == "POST":
        if not request.user.has_perm("claims.add_settlementfile"):
            messages.error(request, "无权导入结算文件。")
        elif form.is_valid():
            up = form.cleaned_data["file"]
            try:
                with transaction.atomic():
                    f = settlement_file_upload(institution=form.cleaned_data["institution"], month=form.cleaned_data["month"],
                                               file_name=up.name, data=up.read(), user=request.user)
                    from .tasks import settlement_import

                    user_id = request.user.pk
                    transaction.on_commit(lambda: settlement_import.delay(f.pk, user_id))
                messages.success(request, f"文件“{f.file_name}”已上传，正在导入核对。")
                return redirect("claims:settlement-list")
            except YfbzError as exc:
                messages.error(request, str(exc))
    months = selectors.settlement_months_for(request.user).order_by("-month", "institution__code")
    page = Paginator(months, 50).get_page(request.GET.get("page"))
    files = SettlementFile.objects.defer("data").select_related("settlement_month__institution", "uploaded_by")[:20]
    if not request.user.sees_everything:
        files = []
    return render(request, "claims/settlement_list.html", {
        "form": form, "platform_form": platform_form, "page": page, "files": files,
        "unknown": unknown_institutions() if request.user.sees_everything else [],
        "other_periods": other_period_lines() if request.user.sees_everything else [],
        "platform_files": (PlatformSettlementFile.objects.defer("data").select_related("uploaded_by")[:10]
                           if request.user.sees_everything else []),
    })


def _queue_imports(files, user) -> None:
    from .tasks import settlement_import

    user_id = user.pk
    for f in files:
        transaction.on_commit(lambda pk=f.pk: settlement_import.delay(pk, user_id))


def _platform_message(pf, files) -> str:
    msg = f"平台结算明细“{pf.file_name}”共{pf.lines_total:,}行（{describe(pf.reading)}），已拆分为{len(files)}家机构的文件，正在导入核对。"
    if pf.other_periods:
        msg += ("另有" + "、".join(f"{o['rows']:,}行的清算期为{o['period']}" for o in pf.other_periods)
                + f"，不是{pf.month:%Y-%m}，未混入本月核对（见“其他清算期的平台明细”）。")
    if pf.unknown:
        msg += (f"另有{len(pf.unknown)}家机构系统中没有（{'、'.join(u['name'] or u['code'] for u in pf.unknown)}），"
                "其明细待系统管理员添加机构（含等级）后，再点“重新拆分”核对。")
    return msg


@login_required
@require_POST
@permission_required("claims.add_settlementfile", raise_exception=True)
def platform_split(request, pk):
    pf = get_object_or_404(PlatformSettlementFile.objects.defer("data"), pk=pk)
    try:
        platform_file_resplit(platform_file_id=pf.pk, user=request.user)
    except YfbzError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"“{pf.file_name}”已排队重新拆分：新添加机构的明细拆出后自动核对，"
                                  "状态见“最近上传的平台结算明细”。")
    return redirect("claims:settlement-list")


def _line_filter(request, month=None):
    qs = selectors.settlement_lines_for(request.user)
    if month is not None:
        qs = qs.filter(settlement_month=month)
    return SettlementLineFilter(request.GET, queryset=qs.order_by("settlement_month_id", "file_id", "line_no"))


@login_required
@permission_required("claims.view_settlementline", raise_exception=True)
def settlement_month(request, pk):
    sm = get_object_or_404(selectors.settlement_months_for(request.user), pk=pk)
    f = _line_filter(request, sm)
    page = Paginator(f.qs, 100).get_page(request.GET.get("page"))
    is_reviewer = request.user.is_superuser or request.user.has_role(Role.DISTRICT_REVIEWER)
    if is_reviewer:  # offer on each disputed line only the resolutions the service will accept
        from .settlement import resolution_options

        page.object_list = list(page.object_list)
        for ln in page.object_list:
            if not ln.resolution and (ln.outcome == "DISPUTED" and sm.status == "OPEN" or ln.pending and ln.prior_payable is not None):
                ln.options, ln.refusal = resolution_options(ln)
    return render(request, "claims/settlement_month.html", {
        "sm": sm, "filter": f, "page": page, "summary": selectors.settlement_month_summary(sm),
        "files": sm.files.defer("data").select_related("uploaded_by").prefetch_related(Prefetch(
            "status_changes", queryset=SettlementFileStatusChange.objects.select_related("by").order_by("at", "id"),
            to_attr="history")),
        "can_review": is_reviewer,
        "resolve_form": ResolveForm(), "history": selectors.history_of(sm),
    })


@login_required
@permission_required("claims.view_settlementline", raise_exception=True)
def settlement_identities(request):
    """The platform's 救助身份 against ours on the settlement date: disagreements per town, each in words
    (issue 18); a town clerk sees their own town's."""
    from yfbz.core.params import parse_month

    month = parse_month(request.GET["month"]) if request.GET.get("month") else None
    qs = selectors.identity_disagreements(request.user, month).select_related("town", "institution")
    town = request.GET.get("town", "")
    if town.isdigit():
        qs = qs.filter(town_id=int(town))
    page = Paginator(qs.order_by("town_id", "settled_on", "line_no", "pk"), 100).get_page(request.GET.get("page"))
    return render(request, "claims/settlement_identities.html", {
        "page": page, "summary": selectors.identity_disagreements_by_town(request.user, month),
        "month": month, "town": town,
    })


@login_required
@permission_required("claims.view_settlementline", raise_exception=True)
def settlement_export(request):
    from yfbz.core.pii import full_numbers_requested

    full = full_numbers_requested(request, what="导出一站式结算明细（含完整号码）", model=SettlementLine)
    if (queued := offload(request, "claims.settlement_lines", full=full)) is not None:
        return queued
    return _xlsx(settlement_lines_xlsx(_line_filter(request).qs, full=full), "一站式结算明细", full)


@login_required
@require_POST
@permission_required("claims.change_settlementline", raise_exception=True)
def settlement_resolve(request, pk):
    line = get_object_or_404(SettlementLine.objects.visible_to(request.user), pk=pk)
    form = ResolveForm(request.POST)
    try:
        if not form.is_valid():
            raise ClaimsError("请选择处理结果。")
        settlement_line_resolve(line_id=line.pk, user=request.user, resolution=form.cleaned_data["resolution"],
                                note=form.cleaned_data["note"])
        messages.success(request, f"第{line.line_no}行已处理。")
    except YfbzError as exc:
        messages.error(request, str(exc))
    return redirect(reverse("claims:settlement-month", args=[line.settlement_month_id]) + "?pending=true")


@login_required
@require_POST
@permission_required("claims.change_settlementmonth", raise_exception=True)
def settlement_confirm(request, pk):
    sm = get_object_or_404(selectors.settlement_months_for(request.user), pk=pk)
    try:
        sm = settlement_month_confirm(month_id=sm.pk, user=request.user)
        messages.success(request, f"{sm}已确认，应付机构{display_money(sm.agreed_total)}元。")
    except YfbzError as exc:
        messages.error(request, str(exc))
    return redirect("claims:settlement-month", sm.pk)


@login_required
@require_POST
@permission_required("claims.change_settlementmonth", raise_exception=True)
def settlement_reopen(request, pk):
    sm = get_object_or_404(selectors.settlement_months_for(request.user), pk=pk)
    try:
        sm = settlement_month_reopen(month_id=sm.pk, user=request.user, reason=request.POST.get("reason", "")[:200])
        messages.success(request, f"{sm}已重新打开；再次确认后，应付款在确认当月的资金申请中另行申请。")
    except YfbzError as exc:
        messages.error(request, str(exc))
    return redirect("claims:settlement-month", sm.pk)


# --- retroactive identity changes (beneficiaries.RetroactiveChange) -------------------------------
@login_required
@permission_required(VIEW_BILL, raise_exception=True)
def retroactive_detail(request, pk):
    """What a retroactive identity change reaches — hand bills and one-stop lines, with what each
    would be on today's identities — and (district staff) deciding them again or closing the change."""
    from beneficiaries.selectors import retroactive_changes_for
    from beneficiaries.services import can_handle_retroactive, retroactive_changes_close

    from . import retro
    from .services import retroactive_change_redecide

    change = get_object_or_404(retroactive_changes_for(request.user), pk=pk)
    can_act = can_handle_retroactive(request.user)
    if request.method == "POST":
        if not can_act:
            raise PermissionDenied("只有区医保经办或审核人员可以处理追溯变化")
        try:
            if request.POST.get("action") == "close":
                retroactive_changes_close(change_ids=[change.pk], user=request.user, note=request.POST.get("note", ""))
                messages.success(request, "已关闭该追溯变化。")
            else:
                done = retroactive_change_redecide(change_id=change.pk, user=request.user)
                messages.success(request, done.message + "。")
        except YfbzError as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        return redirect("claims:retroactive-detail", pk)
    visible = Decision.objects.visible_to(request.user)
    affected = []
    for d in selectors.decisions_affected_by(change):
        if not visible.filter(pk=d.pk).exists():
            continue
        preview = None
        needs = d.retroactive_change_id != change.pk and d.decided_at < change.created_at
        if needs:
            try:
                preview = retro.preview_decision(d)
            except ClaimsError:
                preview = None
        affected.append({"d": d, "preview": preview, "preview_total": sum(preview) if preview else None,
                         "redecided": d.retroactive_change_id == change.pk, "needs": needs})
    lines = []
    for line in selectors.lines_affected_by(change):
        preview = retro.preview_line(line).amount if not line.pending and line.retroactive_change_id != change.pk else None
        lines.append({"line": line, "preview": preview, "reopened": line.retroactive_change_id == change.pk})
    to_redecide = sum(1 for a in affected if a["needs"]) + sum(
        1 for x in lines if not x["reopened"] and x["preview"] is not None and x["preview"] != retro.counted(x["line"]))
    redecisions = (Decision.objects.visible_to(request.user).filter(retroactive_change=change)
                   .select_related("bill", "reviewed_by", "decided_by").prefetch_related("adjustments").order_by("pk"))
    return render(request, "claims/retroactive_detail.html", {
        "change": change, "affected": affected, "lines": lines, "redecisions": redecisions, "can_act": can_act,
        "history": change.status_changes.select_related("by"), "to_redecide": to_redecide,
        "waiting": retro.change_waiting_items(change),
    })
