"""Pages of the funding app. Views call services; lists of people's data start from visible_to(user)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from beneficiaries.models import Person, Town
from yfbz.core.display import money as display_money
from yfbz.core.downloads import download, town_name
from yfbz.core.errors import YfbzError
from yfbz.core.exports import document_job
from yfbz.core.middleware import read_only_allowed
from yfbz.core.roles import Role
from yfbz.core.scoping import district_q, towns_on
from yfbz.core.workflow import history_of
from yfbz.files.reader import describe

from . import exports, notices, selectors, services
from .forms import (
    ConfirmForm,
    EnrolmentForm,
    ImportForm,
    IncomeForm,
    MonthForm,
    ReceivableForm,
    RecoveryForm,
    SelfPaidForm,
    TaxDetailForm,
    TransferForm,
    YearForm,
)
from .models import (
    EntryProposal,
    FileImport,
    Fund,
    JournalEntry,
    PayableLine,
    PaymentBatch,
    Period,
    Receivable,
    SelfPaidReport,
    SubsidyChange,
    SubsidyResult,
    SubsidyRun,
    TaxListSettlement,
    TaxReconciliation,
    TaxReconciliationLine,
)
from .services import FundingError
from .services.fileimports import file_import_queue


def _requests(user):
    """Fund requests of the user's district (docs/areas.md, funds by area): yfbz.core.scoping.district_q."""
    return selectors.fund_requests(user)


def _batches(user):
    return PaymentBatch.objects.filter(district_q(user, "request__district"))


def _refused(request, exc: YfbzError):
    messages.error(request, str(exc))


# --- fund requests ------------------------------------------------------------------------------
@login_required
@permission_required("funding.view_fundrequest", raise_exception=True)
def home(request):
    today = timezone.localdate()
    return render(request, "funding/home.html", {
        "balances": selectors.balances(),
        "requests": _requests(request.user).select_related("created_by")[:24],
        "form": MonthForm(initial={"year": today.year, "month": today.month}),
    })


@login_required
@permission_required("funding.add_fundrequest", raise_exception=True)
@require_POST
def request_create(request):
    form = MonthForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写正确的年度和月份")
        return redirect("funding:home")
    try:
        req = services.fund_request_create(year=form.cleaned_data["year"], month=form.cleaned_data["month"], user=request.user)
    except YfbzError as exc:
        _refused(request, exc)
        return redirect("funding:home")
    messages.success(request, f"已编制资金申请 {req.number}：{req.line_count} 笔")
    return redirect("funding:request-detail", pk=req.pk)


@login_required
@permission_required("funding.view_fundrequest", raise_exception=True)
def request_detail(request, pk):
    req = get_object_or_404(_requests(request.user).select_related("created_by", "approved_by"), pk=pk)
    return render(request, "funding/request_detail.html", {
        "req": req, "summary": selectors.request_summary(req),
        "withdrawn": [{"line": ln, "source": selectors.source_label(ln.source_key),
                       "funds": getattr(ln, "withdrawn_funds", None)} for ln in selectors.request_withdrawn(req)],
        "withdrawn_assistance": services.withdrawn_assistance(req), "transfer_due": services.transfer_due(req),
        "carried": req.carried_funds.select_related("request", "line"),
        "changes": history_of(req),
        "batches": req.batches.select_related("created_by", "confirmed_by"),
        "transfer_form": TransferForm(), "confirm_form": ConfirmForm(),
        "pending": req.lines.filter(status="pending").count(),
        "payable": _payable_by_fund(req),
        "failed": req.lines.filter(status="pending", payments__status="failed").distinct()[:200],
    })


def _payable_by_fund(req) -> list[dict]:
    """What a payment batch of each fund would send to the bank now: lines waiting with an account."""
    from django.db.models import Count, Sum

    rows = {r["fund"]: r for r in req.lines.filter(status="pending").exclude(bank_account="").values("fund")
            .annotate(n=Count("pk"), total=Sum("amount"))}
    return [{"fund": f, "name": f.label, "n": rows.get(f.value, {}).get("n", 0),
             "total": rows.get(f.value, {}).get("total") or 0} for f in Fund]


@read_only_allowed  # the auditor's press asks for a PDF to read: a job row of their own, nothing else changes
@login_required
@permission_required("funding.view_fundrequest", raise_exception=True)
def request_pdf(request, pk):
    """打印申请表 (issue 14): a POST queues the form's PDF for a Celery worker (yfbz.core.exports.document_job:
    a second press while it waits is the same job) and leads to the job's page, where it is downloaded.
    A GET (an old link, a bookmark) only leads back to the request's page: it creates nothing."""
    req = get_object_or_404(_requests(request.user), pk=pk)
    if request.method != "POST":
        return redirect("funding:request-detail", pk=req.pk)
    job = document_job(user=request.user, key="funding.request_pdf", params={"pk": req.pk},
                       title=f"医疗救助资金申请表 {req.number}")
    return redirect("export-detail", job.pk)


@login_required
@require_POST
def request_action(request, pk, action):
    req = get_object_or_404(_requests(request.user), pk=pk)
    needs = {"submit": "funding.change_fundrequest", "cancel": "funding.change_fundrequest",
             "transfer": "funding.add_journalentry", "batch": "funding.add_paymentbatch",
             "withdraw": "funding.add_paymentbatch", "return": "funding.add_journalentry"}
    if action not in needs or not request.user.has_perm(needs[action]):
        raise PermissionDenied
    try:
        if action == "submit":
            services.fund_request_submit(request_id=req.pk, user=request.user)
            messages.success(request, "已审核并报送财政")
        elif action == "cancel":
            services.fund_request_cancel(request_id=req.pk, user=request.user, reason=request.POST.get("reason", "作废"))
            messages.success(request, "已作废，明细可重新申请")
        elif action == "transfer":
            form = TransferForm(request.POST)
            if not form.is_valid():
                raise FundingError("请填写到账日期和拨款文件号")
            # maker: the finance officer entering it; checker: the reviewer who approved the request
            services.fund_request_record_transfer(request_id=req.pk, on=form.cleaned_data["on"],
                                                  source_document=form.cleaned_data["source_document"],
                                                  entered_by=request.user, approved_by=req.approved_by)
            messages.success(request, "已登记财政划拨")
        elif action == "withdraw":
            n = services.fund_request_withdraw_stale(request_id=req.pk, user=request.user)
            messages.success(request, f"已核对来源：撤回{n}笔" if n else "已核对来源：没有需要撤回的明细")
        elif action == "return":
            form = TransferForm(request.POST)
            if not form.is_valid():
                raise FundingError("请填写退回日期和凭据号")
            funds_id = int(request.POST.get("funds", "0") or 0)
            # maker: the finance officer; checker: the reviewer who approved the request (as for the transfer)
            f = services.withdrawn_funds_return(funds_id=funds_id, on=form.cleaned_data["on"],
                                                source_document=form.cleaned_data["source_document"],
                                                entered_by=request.user, approved_by=req.approved_by)
            messages.success(request, f"已退回财政专户：{display_money(f.amount)}元（凭证 {f.entry.number}）")
        elif action == "batch":
            batch = services.payment_batch_create(request_id=req.pk, fund=request.POST.get("fund", ""), user=request.user)
            messages.success(request, f"已生成支付批次 {batch.number}：{batch.payments.count()} 笔，{batch.total} 元")
    except YfbzError as exc:
        _refused(request, exc)
    except ValueError:
        messages.error(request, "资金类型无效")
    return redirect("funding:request-detail", pk=req.pk)


@login_required
@permission_required("funding.add_paymentbatch", raise_exception=True)
@require_POST
def line_correct_bank(request, pk):
    line = get_object_or_404(PayableLine.objects.visible_to(request.user), pk=pk)
    try:
        services.payable_correct_bank(line_id=line.pk, bank_name=request.POST.get("bank_name", ""),
                                      bank_account=request.POST.get("bank_account", ""), user=request.user)
        messages.success(request, f"已更正 {line.payee_name} 的银行账号，可生成新的支付批次重新支付")
    except YfbzError as exc:
        _refused(request, exc)
    return redirect("funding:request-detail", pk=line.request_id)


@login_required
@permission_required("funding.view_paymentbatch", raise_exception=True)
def batch_xlsx(request, pk):
    batch = get_object_or_404(_batches(request.user), pk=pk)
    return download(exports.bank_file_xlsx(batch), "银行代发文件", batch.get_fund_display(), batch.number, ext="xlsx")


@login_required
@permission_required("funding.change_paymentbatch", raise_exception=True)
@require_POST
def batch_confirm(request, pk):
    batch = get_object_or_404(_batches(request.user), pk=pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return redirect("funding:request-detail", pk=batch.request_id)
    if request.FILES.get("bank_return"):  # read, checked and applied by a background task (issue 9, finding 10)
        up = request.FILES["bank_return"]
        row = file_import_queue(kind=FileImport.Kind.BANK_RETURN, file_name=up.name, data=up.read(), user=request.user,
                                batch_id=batch.pk, paid_on=form.cleaned_data["paid_on"].isoformat())
        messages.success(request, f"银行回单“{row.file_name}”已上传，正在后台核对并确认批次 {batch.number}。")
        return redirect("funding:file-import", row.pk)
    try:
        failures = form.cleaned_data["failures"]
        services.payment_batch_confirm(batch_id=batch.pk, paid_on=form.cleaned_data["paid_on"],
                                       failures=failures, user=request.user)
        messages.success(request, f"批次 {batch.number} 已按银行回单确认")
    except YfbzError as exc:
        _refused(request, exc)
    return redirect("funding:request-detail", pk=batch.request_id)


# --- month report and close -----------------------------------------------------------------------
@login_required
@permission_required("funding.view_journalentry", raise_exception=True)
def report(request):
    today = timezone.localdate()
    form = MonthForm(request.GET or {"year": today.year, "month": today.month})
    if not form.is_valid():
        return render(request, "funding/report.html", {"form": form})
    y, m = form.cleaned_data["year"], form.cleaned_data["month"]
    r = selectors.month_report(y, m)
    fmt = request.GET.get("format")
    if fmt == "xlsx":
        return download(exports.month_report_xlsx(r), notices.month_report_name(y, m), ext="xlsx")
    if fmt == "pdf":  # an old link: the PDF is a job now, asked for by the page's button (report_pdf)
        return redirect(f"{reverse('funding:report')}?{urlencode({'year': y, 'month': m})}")
    period = Period.objects.filter(year=y, month=m).first()
    return render(request, "funding/report.html", {
        "form": form, "r": r, "period": period, "month_ended": today > r["last"],
        "month_in": sum((a["inflow"] for a in r["accounts"]), Decimal("0.00")),
        "month_out": sum((a["outflow"] for a in r["accounts"]), Decimal("0.00")),
    })


@read_only_allowed  # the auditor's press asks for a PDF to read: a job row of their own, nothing else changes
@login_required
@permission_required("funding.view_journalentry", raise_exception=True)
@require_POST
def report_pdf(request):
    """导出 PDF of the month report (issue 14): queued for a Celery worker (a second press while it waits is the
    same job), downloaded from the job's page."""
    form = MonthForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写正确的年度和月份")
        return redirect("funding:report")
    y, m = form.cleaned_data["year"], form.cleaned_data["month"]
    job = document_job(user=request.user, key="funding.month_report_pdf", params={"year": y, "month": m},
                       title=notices.month_report_name(y, m))
    return redirect("export-detail", job.pk)


@login_required
@permission_required("funding.change_period", raise_exception=True)
@require_POST
def period_close(request):
    form = MonthForm(request.POST)
    if form.is_valid():
        try:
            services.period_close(year=form.cleaned_data["year"], month=form.cleaned_data["month"], user=request.user)
            messages.success(request, "已结账")
        except YfbzError as exc:
            _refused(request, exc)
    return redirect(f"{reverse('funding:report')}?year={request.POST.get('year', '')}&month={request.POST.get('month', '')}")


# --- subsidies ---------------------------------------------------------------------------------------
def _town_for(request) -> int | None:
    """A town clerk always gets their own town; district roles may choose one (or all)."""
    if request.user.sees_everything or request.user.is_superuser:
        t = request.GET.get("town")
        return int(t) if t and t.isdigit() else None
    if request.user.has_role(Role.TOWN_CLERK) and request.user.town_id:
        return request.user.town_id
    raise PermissionDenied


@login_required
@permission_required("funding.view_subsidyresult", raise_exception=True)
def subsidy(request):
    today = timezone.localdate()
    form = YearForm(request.GET or {"year": today.year})
    year = form.cleaned_data["year"] if form.is_valid() else today.year
    runs = SubsidyRun.objects.filter(year=year).select_related("started_by")[:10]
    latest = runs[0] if runs else None
    changes = SubsidyChange.objects.visible_to(request.user).filter(run=latest).select_related("person")[:500] if latest else []
    if request.user.sees_everything or request.user.is_superuser:
        # the year's lists are by the town on its 31 December: the towns under the user's district that day
        towns = Town.objects.filter(towns_on(request.user, date(year, 12, 31)))
    else:
        towns = Town.objects.filter(pk=request.user.town_id)
    settlements = TaxListSettlement.objects.visible_to(request.user).filter(year=year).select_related("town")
    return render(request, "funding/subsidy.html", {"year": year, "runs": runs, "latest": latest, "changes": changes,
                                                     "missing": selectors.subsidy_missing(year),
                                                     "settlements": settlements,
                                                     "towns": towns, "import_form": ImportForm(initial={"year": year}),
                                                     "enrolment_form": EnrolmentForm(initial={"year": year})})


@login_required
@permission_required("funding.view_subsidyrun", raise_exception=True)
def subsidy_run_progress(request, pk):
    run = get_object_or_404(SubsidyRun, pk=pk)
    return JsonResponse({"status": run.status, "status_zh": run.get_status_display(), "done": run.progress_done,
                         "total": run.progress_total, "percent": run.progress_percent})


@login_required
@permission_required("funding.add_subsidyrun", raise_exception=True)
@require_POST
def subsidy_run_start(request):
    form = YearForm(request.POST)
    if form.is_valid():
        try:
            run = services.subsidy_run_start(year=form.cleaned_data["year"], user=request.user)
            messages.success(request, f"已开始 {run.year}年资助参保计算 #{run.pk}")
        except YfbzError as exc:
            _refused(request, exc)
    return redirect(f"{reverse('funding:subsidy')}?year={request.POST.get('year', '')}")


@login_required
@permission_required("funding.view_subsidyresult", raise_exception=True)
def tax_list(request, year):
    town_id = _town_for(request)
    rows = selectors.tax_list(request.user, year=year, town_id=town_id)
    from yfbz.core.exports import offload
    from yfbz.core.pii import full_numbers_requested

    # the tax system needs full numbers: asked for on purpose, with a reason, recorded
    full = full_numbers_requested(request, what=f"导出{year}年资助参保税务名单（含完整号码）", model=SubsidyResult)
    if (queued := offload(request, "funding.tax_list", full=full, title=f"{year}年资助参保税务名单",
                          extra={"year": year})) is not None:
        return queued  # over the limit: built by a task, downloaded from the job's page (issue 14)
    return download(exports.tax_list_xlsx(rows, full=full), town_name(town_id), f"{year}年资助参保税务名单", ext="xlsx",
                    full=full)


@login_required
@permission_required("funding.view_subsidyresult", raise_exception=True)
def gap_list(request, year):
    town_id = _town_for(request)
    from yfbz.core.pii import full_numbers_requested

    full = full_numbers_requested(request, what=f"导出{year}年漏保断保名单（含完整号码）", model=SubsidyResult)
    from yfbz.core.exports import offload

    if (queued := offload(request, "funding.gap_list", full=full, title=f"{year}年漏保断保名单",
                          extra={"year": year})) is not None:
        return queued
    return download(exports.gap_list_xlsx(selectors.gap_list(request.user, year=year, town_id=town_id), full=full),
                    town_name(town_id), f"{year}年漏保断保名单", ext="xlsx", full=full)


@login_required
@permission_required("funding.add_taxlistsettlement", raise_exception=True)
@require_POST
def tax_list_confirm(request, year):
    town = get_object_or_404(Town, pk=request.POST.get("town") or 0)
    try:
        s = services.tax_list_confirm(year=year, town_id=town.pk, payee_name=request.POST.get("payee_name", ""),
                                      bank_name=request.POST.get("bank_name", ""), bank_account=request.POST.get("bank_account", ""),
                                      user=request.user)
        messages.success(request, f"已确认{town.name}{year}年税务代缴名单：{s.people} 人，本次结算 {s.amount} 元")
    except YfbzError as exc:
        _refused(request, exc)
    return redirect(f"{reverse('funding:subsidy')}?year={year}")


@login_required
@permission_required("funding.change_enrolment", raise_exception=True)
@require_POST
def enrolment_edit(request):
    form = EnrolmentForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        person = Person.objects.visible_to(request.user).filter(id_number=d["id_number"].strip().upper()).first()
        if person is None:
            messages.error(request, f"公民身份号码「{d['id_number']}」：无此人员或不在您的管辖范围")
        else:
            try:
                services.enrolment_set(person=person, year=d["year"], kind=d["kind"], user=request.user)
                messages.success(request, f"已更新 {person.name} {d['year']}年参保登记；重新计算后生效")
            except YfbzError as exc:
                _refused(request, exc)
    else:
        messages.error(request, "请填写公民身份号码、年度和参保类型")
    return redirect(f"{reverse('funding:subsidy')}?year={request.POST.get('year', '')}")


@login_required
@permission_required("funding.add_enrolment", raise_exception=True)
@require_POST
def enrolment_upload(request):
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs) or "请选择年度和文件（xlsx或CSV）")
    else:
        up = form.cleaned_data["file"]
        row = file_import_queue(kind=FileImport.Kind.ENROLMENT, file_name=up.name, data=up.read(), user=request.user,
                                year=form.cleaned_data["year"])
        messages.success(request, f"参保数据文件“{row.file_name}”已上传，正在后台导入。")
        return redirect("funding:file-import", row.pk)
    return redirect("funding:subsidy")


@login_required
def file_import_detail(request, pk):
    """The progress and result of an uploaded data file's import (only its uploader sees it)."""
    row = get_object_or_404(FileImport.objects.defer("data"), pk=pk)
    if not (request.user.is_superuser or row.created_by_id == request.user.pk):
        raise PermissionDenied("只能查看自己上传的文件")
    if request.GET.get("format") == "json":
        return JsonResponse({"status": row.status, "status_zh": row.get_status_display(), "finished": row.finished,
                             "result": row.result, "error": row.error})
    back = reverse("funding:subsidy") if row.kind == FileImport.Kind.ENROLMENT else (
        reverse("funding:request-detail", args=[PaymentBatch.objects.get(pk=row.params["batch_id"]).request_id]))
    return render(request, "funding/file_import.html", {"row": row, "back": back})


# --- route (b) ---------------------------------------------------------------------------------------
@login_required
@permission_required("funding.view_selfpaidreport", raise_exception=True)
def selfpaid(request):
    form = SelfPaidForm(initial={"year": timezone.localdate().year})
    if request.method == "POST":
        if not request.user.has_perm("funding.add_selfpaidreport"):
            raise PermissionDenied
        form = SelfPaidForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            person = Person.objects.visible_to(request.user).filter(id_number=d["id_number"].strip().upper()).first()
            if person is None:
                form.add_error("id_number", "本镇街无此人员")
            else:
                try:
                    services.selfpaid_report(person=person, year=d["year"], enrolment=d["enrolment"], paid_amount=d["paid_amount"],
                                             bank_name=d["bank_name"], bank_account=d["bank_account"],
                                             account_holder=d["account_holder"], user=request.user)
                    messages.success(request, f"已上报 {person.name}")
                    return redirect("funding:selfpaid")
                except YfbzError as exc:
                    form.add_error(None, str(exc))
    qs = SelfPaidReport.objects.visible_to(request.user).select_related("person", "town").order_by("-id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "funding/selfpaid.html", {"form": form, "page": page})


@login_required
@permission_required("funding.change_selfpaidreport", raise_exception=True)
@require_POST
def selfpaid_decide(request, pk):
    report_ = get_object_or_404(SelfPaidReport.objects.visible_to(request.user), pk=pk)
    try:
        services.selfpaid_decide(report_id=report_.pk, approve=request.POST.get("approve") == "1", user=request.user,
                                 note=request.POST.get("note", ""))
        messages.success(request, "已审核")
    except YfbzError as exc:
        _refused(request, exc)
    return redirect("funding:selfpaid")


# --- the journal ---------------------------------------------------------------------------------------
@login_required
@permission_required("funding.view_journalentry", raise_exception=True)
def ledger(request):
    form = IncomeForm()
    if request.method == "POST":
        if not request.user.has_perm("funding.add_journalentry"):
            raise PermissionDenied
        form = IncomeForm(request.POST)
        if form.is_valid():
            try:
                services.proposal_income(user=request.user, **form.cleaned_data)
                messages.success(request, "已录入，待另一人审核后记账")
                return redirect("funding:ledger")
            except YfbzError as exc:
                form.add_error(None, str(exc))
    entries = JournalEntry.objects.select_related("counterpart", "entered_by", "approved_by").prefetch_related("lines__account")
    if request.GET.get("account"):
        entries = entries.filter(lines__account__code=request.GET["account"]).distinct()
    page = Paginator(entries.order_by("-date", "-id"), 50).get_page(request.GET.get("page"))
    pending = EntryProposal.objects.filter(status=EntryProposal.Status.PENDING).select_related("account", "counterpart", "reverses", "proposed_by")
    # an entry already reversed, or with a reversal waiting for approval, is said so instead of offering 冲销
    on_page = [e.pk for e in page]
    reversed_by = dict(JournalEntry.objects.filter(reverses__in=on_page).values_list("reverses_id", "number"))
    waiting = set(EntryProposal.objects.filter(status=EntryProposal.Status.PENDING, reverses__in=on_page)
                  .values_list("reverses_id", flat=True))
    for e in page:
        e.reversed_by_number = reversed_by.get(e.pk)
        e.reversal_waiting = e.pk in waiting
    return render(request, "funding/ledger.html", {"form": form, "page": page, "pending": pending, "balances": selectors.balances()})


@login_required
@permission_required("funding.change_journalentry", raise_exception=True)
@require_POST
def proposal_decide(request, pk):
    try:
        services.proposal_decide(proposal_id=pk, approve=request.POST.get("approve") == "1", user=request.user,
                                 note=request.POST.get("note", ""))
        messages.success(request, "已审核")
    except YfbzError as exc:
        _refused(request, exc)
    return redirect("funding:ledger")


@login_required
@permission_required("funding.add_journalentry", raise_exception=True)
@require_POST
def entry_reverse(request, pk):
    entry = get_object_or_404(JournalEntry, pk=pk)
    try:
        services.proposal_reversal(entry_id=entry.pk, on=timezone.localdate(), reason=request.POST.get("reason", ""), user=request.user)
        messages.success(request, f"已提出冲销 {entry.number}，待审核")
    except YfbzError as exc:
        _refused(request, exc)
    return redirect("funding:ledger")


# --- recoveries ----------------------------------------------------------------------------------------
@login_required
@permission_required("funding.view_receivable", raise_exception=True)
def receivables(request):
    form = ReceivableForm()
    if request.method == "POST":
        if not request.user.has_perm("funding.add_receivable"):
            raise PermissionDenied
        form = ReceivableForm(request.POST)
        if form.is_valid():
            try:
                services.receivable_open(user=request.user, **form.cleaned_data)
                messages.success(request, "已登记应收款")
                return redirect("funding:receivables")
            except YfbzError as exc:
                form.add_error(None, str(exc))
    page = Paginator(Receivable.objects.filter(district_q(request.user)).select_related("opened_by"), 50).get_page(
        request.GET.get("page"))
    for r in page:
        r.source_text = selectors.source_label(r.source_key)
    return render(request, "funding/receivables.html", {"form": form, "page": page, "recovery_form": RecoveryForm()})


@login_required
@permission_required("funding.add_journalentry", raise_exception=True)
@require_POST
def receivable_recover(request, pk):
    get_object_or_404(Receivable.objects.filter(district_q(request.user)), pk=pk)
    form = RecoveryForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写追回金额、到账日期和凭据")
    else:
        try:
            services.proposal_recovery(receivable_id=pk, user=request.user, **form.cleaned_data)
            messages.success(request, "已录入追回款，待另一人在“记账”页审核后入账")
        except YfbzError as exc:
            _refused(request, exc)
    return redirect("funding:receivables")


# --- the tax system's 代缴明细 reconciled with the subsidy run (issue 18) ------------------------------
@login_required
@permission_required("funding.view_subsidyresult", raise_exception=True)
def tax_reconciliations(request):
    form = TaxDetailForm(request.POST or None, request.FILES or None, initial={"year": timezone.localdate().year})
    if request.method == "POST":
        if not request.user.has_perm("funding.add_subsidyrun"):
            raise PermissionDenied
        if form.is_valid():
            up = form.cleaned_data["file"]
            try:
                rec = services.tax_reconciliation_queue(year=form.cleaned_data["year"], file_name=up.name, data=up.read(),
                                                        user=request.user)
            except YfbzError as exc:
                _refused(request, exc)
            else:
                messages.success(request, f"已上传{rec.year}年税务代缴明细“{rec.file_name}”，后台正在读取并核对。")
                return redirect("funding:tax-reconciliation", rec.pk)
    recs = TaxReconciliation.objects.select_related("uploaded_by")[:20]
    return render(request, "funding/tax_reconciliations.html", {"form": form, "recs": recs})


def _rec_lines(request, rec):
    qs = TaxReconciliationLine.objects.visible_to(request.user).filter(reconciliation=rec).select_related("town")
    town_id = _town_for(request)
    if town_id:
        qs = qs.filter(town_id=town_id)
    kind = request.GET.get("kind", "")
    if kind in TaxReconciliationLine.Kind.values:
        qs = qs.filter(kind=kind)
    elif kind != "all":
        qs = qs.exclude(kind=TaxReconciliationLine.Kind.AGREED)  # the follow-up list: disagreements only
    return qs.order_by("town_id", "kind", "row_no", "pk")


@login_required
@permission_required("funding.view_subsidyresult", raise_exception=True)
def tax_reconciliation(request, pk):
    rec = get_object_or_404(TaxReconciliation, pk=pk)
    if request.GET.get("format") == "json":
        return JsonResponse({"status": rec.status, "status_zh": rec.get_status_display(), "finished": rec.finished,
                             "error": rec.error})
    if rec.status != TaxReconciliation.Status.DONE:  # queued, running or failed: its status, the reason, 重新运行
        return render(request, "funding/tax_reconciliation.html", {"rec": rec})
    page = Paginator(_rec_lines(request, rec), 100).get_page(request.GET.get("page"))
    from beneficiaries.models import Category

    names = dict(Category.objects.values_list("code", "name"))
    for ln in page:  # codes reach users only through their Chinese names
        ln.our_category_name = names.get(ln.our_category, ln.our_category)
    return render(request, "funding/tax_reconciliation.html", {
        "rec": rec, "summary": services.tax_reconciliation_towns(rec, request.user), "page": page,
        "kinds": TaxReconciliationLine.Kind.choices, "kind": request.GET.get("kind", ""),
        "town": request.GET.get("town", ""), "reading": describe(rec.reading),
    })


@login_required
@permission_required("funding.view_subsidyresult", raise_exception=True)
def tax_reconciliation_export(request, pk):
    rec = get_object_or_404(TaxReconciliation, pk=pk)
    from yfbz.core.pii import full_numbers_requested

    full = full_numbers_requested(request, what=f"导出{rec.year}年税务代缴明细核对结果（含完整号码）", model=TaxReconciliationLine)
    return download(exports.tax_reconciliation_xlsx(_rec_lines(request, rec), full=full), town_name(_town_for(request)),
                    f"{rec.year}年税务代缴明细核对{rec.pk}", ext="xlsx", full=full)


@login_required
@permission_required("funding.add_taxlistsettlement", raise_exception=True)
@require_POST
def tax_reconciliation_settle(request, pk):
    rec = get_object_or_404(TaxReconciliation, pk=pk)
    town = get_object_or_404(Town, pk=request.POST.get("town") or 0)
    try:
        s = services.tax_reconciliation_settle(
            reconciliation_id=rec.pk, town_id=town.pk, payee_name=request.POST.get("payee_name", ""),
            bank_name=request.POST.get("bank_name", ""), bank_account=request.POST.get("bank_account", ""), user=request.user)
        messages.success(request, f"已确认{town.name}{rec.year}年税务代缴结算：一致 {s.people:,} 人，本次结算 {display_money(s.amount)} 元，"
                                  "计入当月资金申请")
        if s.flagged:
            messages.warning(request, f"{'、'.join(s.flagged[:10])}{'等' if len(s.flagged) > 10 else ''}{len(s.flagged)}人"
                                      f"{rec.year}年已按途径二（个人自缴后资助）资助，未计入本次结算，已标为“两种方式重复资助”，"
                                      "请与税务部门核对已代缴的款项")
    except YfbzError as exc:
        _refused(request, exc)
    return redirect("funding:tax-reconciliation", rec.pk)
