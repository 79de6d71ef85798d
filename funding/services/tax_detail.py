"""The tax system's 税务代缴明细 reconciled with our subsidy run (issue 18, docs/funding.md).

The file is read as it comes (two title rows, the header on row 3: yfbz.files, docs/files.md). Every
row is checked first (a bad row refuses the whole file, naming row and field). Each person is then
sorted, against our best identity and amount of the year (``SubsidyResult``), into:

- 一致 (AGREED): the 代缴类别 maps to our category and the 代缴金额 is our amount;
- 金额不一致 (AMOUNT), 类别不一致 (CATEGORY, also when the wording maps to none of our categories);
- 按我方记录不符合资助条件 (NOT_ELIGIBLE): not in our records, or no qualifying identity this year;
- 两种方式重复资助 (BOTH_ROUTES): also subsidised by route (b) (self-paid, or a self-paid report approved);
- 税务明细重复 (DUPLICATE): the same person a second time in the file;
- 漏保 (MISSING): on our route (a) list (``selectors.tax_list``) but not in the tax system's file.

Every line carries its explanation in Chinese words and the town (the person's town, else the
file's 街道乡镇), so each town follows up its own (scoped). The 代缴类别 wordings are data: our
category names, the rosters' category wordings and ``TaxCategoryWording`` rows staff add.

The agreed total of a town becomes route (a)'s settlement (``TaxListSettlement``, paid through
``funding.payables._tax_payables``) when a second person confirms it.

Speed: one query for the year's results, one for route (b), the lines written in bulk
(``funding.bulk.insert_rows``); bench/reconcile.py measures 200,000 rows.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from beneficiaries.models import Category, CategoryAlias, Town
from yfbz.core import jobs
from yfbz.core.audit import audit_bulk
from yfbz.core.display import money
from yfbz.core.roles import Role
from yfbz.files.cells import id_number_text, parse_amount
from yfbz.files.formats import TAX_DETAIL
from yfbz.files.reader import FileUnreadable, cell_text, normalise_text, read_table

from ..bulk import is_postgresql
from ..models import (
    Enrolment,
    EnrolmentKind,
    SelfPaidReport,
    SubsidyResult,
    SubsidyRoute,
    TaxCategoryWording,
    TaxListSettlement,
    TaxReconciliation,
    TaxReconciliationLine,
)
from .errors import FundingError

K = TaxReconciliationLine.Kind
ROUTE_A = frozenset({EnrolmentKind.RESIDENT_T1.value, EnrolmentKind.RESIDENT_T2.value})
MAX_ERRORS = 50
LOCK_KEY = 0x7A78  # pg_advisory_xact_lock(LOCK_KEY, year): one decision "already uploaded?" at a time
ZERO = Decimal("0.00")


def _key(text: str) -> str:
    return "".join(normalise_text(text or "").split())


def category_wordings() -> dict[str, str]:
    """代缴类别 wording (compared without spaces, full-width aside) → our category code."""
    out: dict[str, str] = {}
    for wording, code in CategoryAlias.objects.values_list("wording", "category__code"):
        out.setdefault(_key(wording), code)
    for name, code in Category.objects.values_list("name", "code"):
        out[_key(name)] = code
        out[_key(code)] = code
    for wording, code in TaxCategoryWording.objects.values_list("wording", "category__code"):
        out[_key(wording)] = code  # staff's wordings win
    return out


def town_names() -> dict[str, int]:
    """双龙湖街道 / 双龙湖 → the town's id."""
    out: dict[str, int] = {}
    for pk, name in Town.objects.values_list("pk", "name"):
        out[_key(name)] = pk
        for suffix in ("街道", "镇"):
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                out.setdefault(_key(name[: -len(suffix)]), pk)
    return out


def _read(data: bytes):
    """The file's rows as (row number, id number, name, town text, category text, amount); refuses the
    whole file on any bad row."""
    try:
        table = read_table(data, TAX_DETAIL)
    except FileUnreadable as exc:
        raise FundingError(str(exc)) from None
    col = table.columns
    i_id, i_name, i_town, i_cat, i_amount = (col[k] for k in ("id_number", "name", "town", "category", "amount"))
    width = max(i_id, i_name, i_town, i_cat, i_amount) + 1
    rows, errors = [], []
    amounts: dict = {}  # a file repeats a few dozen amounts: each read once (bench/reconcile.py)
    for n, cells in table.rows:
        if len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        raw = cells[i_id]
        try:
            if raw.__class__ is str and len(raw) == 18 and raw.isascii() and raw.isalnum():
                idn = raw.upper()  # the common case, without normalising
            else:
                idn = id_number_text(raw)
        except ValueError as exc:
            errors.append(f"第{n}行“{table.header_of('id_number')}”：{exc}")
            idn = ""
        else:
            if not idn:
                errors.append(f"第{n}行“{table.header_of('id_number')}”：缺少身份证件号码")
        raw = cells[i_amount]
        try:
            amount = amounts.get(raw) if raw.__class__ in (float, int, str) else None
            if amount is None:
                amount = parse_amount(raw)
                if amount is not None and raw.__class__ in (float, int, str):
                    amounts[raw] = amount
        except ValueError as exc:
            errors.append(f"第{n}行“{table.header_of('amount')}”：{exc}")
            amount = ZERO
        else:
            if amount is None:
                errors.append(f"第{n}行“{table.header_of('amount')}”：缺少代缴金额")
                amount = ZERO
        category = normalise_text(cell_text(cells[i_cat]))
        if not category:
            errors.append(f"第{n}行“{table.header_of('category')}”：缺少代缴类别")
        name = normalise_text(cell_text(cells[i_name]))
        for text, key, limit in ((idn, "id_number", 40), (name, "name", 50), (category, "category", 80)):
            if len(text) > limit:
                errors.append(f"第{n}行“{table.header_of(key)}”：超过{limit}个字符（共{len(text)}个），请核对")
        if len(errors) >= MAX_ERRORS:
            break
        rows.append((n, idn, name, normalise_text(cell_text(cells[i_town])), category, amount))
    if errors:
        more = f"（另有{len(errors) - 10}处错误未列出）" if len(errors) > 10 else ""
        raise FundingError("文件未导入：" + "；".join(errors[:10]) + more)
    if not rows:
        raise FundingError("文件中没有代缴明细行")
    return table, rows


def _ours(year: int):
    """Our year: id number → (person, category, amount, enrolment, town); people of route (b)."""
    by_id = {
        idn: (pid, cat, amount, enrolment, town_id or result_town)
        for idn, pid, cat, amount, enrolment, town_id, result_town in SubsidyResult.objects.filter(year=year).values_list(
            "person__id_number", "person_id", "category", "amount", "enrolment", "person__town_id", "town_id"
        ).iterator(chunk_size=20_000)
    }
    route_b = set(Enrolment.objects.filter(year=year, self_paid=True).values_list("person_id", flat=True))
    # route (b) reported (not turned down) or recorded: as selectors.tax_list leaves them out (issue 10)
    route_b |= set(SelfPaidReport.objects.filter(year=year).exclude(status=SelfPaidReport.Status.REJECTED)
                   .values_list("person_id", flat=True))
    route_b |= set(SubsidyRoute.objects.filter(year=year, route=SubsidyRoute.Route.SELF_PAID).values_list("person_id", flat=True))
    return by_id, route_b


def reconcile(rows, year: int):
    """Sort every row and every one of ours missing from the file. Returns line tuples in the order
    of ``LINE_COLUMNS``."""
    by_id, route_b = _ours(year)
    wordings = category_wordings()
    towns = town_names()
    names = dict(Category.objects.values_list("code", "name"))
    seen: dict[str, int] = {}
    lines = []
    agreed, town_of = K.AGREED.value, {}
    for n, idn, name, town_text, category, amount in rows:
        ours = by_id.get(idn)
        pid, our_cat, our_amount, enrolment, town_id = ours if ours else (None, "", None, "", None)
        if not town_id:
            town_id = town_of.get(town_text)
            if town_id is None:
                town_id = town_of[town_text] = towns.get(_key(town_text))
        if (ours is not None and idn not in seen and amount == our_amount and enrolment in ROUTE_A
                and pid not in route_b and wordings.get(category) == our_cat):  # the common case first
            seen[idn] = n
            lines.append((n, agreed, pid, town_id, idn, name, category, amount, our_cat, our_amount, ""))
            continue
        tax = f"税务代缴{money(amount)}元（{category}）"
        if idn in seen:
            kind, text = K.DUPLICATE, f"税务明细第{seen[idn]}行已有此人，本行又{tax}，重复代缴"
        elif ours is None:
            kind, text = K.NOT_ELIGIBLE, f"{tax}，但系统中没有此人的记录（未在任何身份名单中）"
        elif pid in route_b:
            kind, text = K.BOTH_ROUTES, f"{tax}，此人{year}年又按个人缴费后补助（自行缴费）资助，两种方式重复"
        elif not our_amount or enrolment not in ROUTE_A:
            why = (f"参保类型为{EnrolmentKind(enrolment).label}，不由税务代缴" if enrolment and enrolment not in ROUTE_A
                   else f"{year}年没有可资助的身份" if not our_amount else "未登记参保类型，不由税务代缴")
            kind, text = K.NOT_ELIGIBLE, f"{tax}，但按我方记录{why}"
        else:
            mapped = wordings.get(_key(category))
            ours_zh = f"我方最优身份为“{names.get(our_cat, our_cat)}”，应资助{money(our_amount)}元"
            if mapped is None:
                kind, text = K.CATEGORY, (f"代缴类别“{category}”对应不上我方的身份类别（可由系统管理员在“代缴类别写法”中添加）；"
                                          f"{ours_zh}")
            elif mapped != our_cat:
                kind, text = K.CATEGORY, f"税务按“{category}”代缴{money(amount)}元，{ours_zh}"
            elif amount != our_amount:
                diff = amount - our_amount
                kind, text = K.AMOUNT, (f"税务代缴{money(amount)}元，我方应资助{money(our_amount)}元，"
                                        f"{'多' if diff > 0 else '少'}{money(abs(diff))}元")
            else:
                kind, text = K.AGREED, ""
        seen.setdefault(idn, n)
        lines.append((n, kind.value, pid, town_id, idn, name, category, amount, our_cat, our_amount, text))
    for idn, (pid, our_cat, our_amount, enrolment, town_id) in by_id.items():
        if idn in seen or not our_amount or enrolment not in ROUTE_A or pid in route_b:
            continue
        lines.append((None, K.MISSING.value, pid, town_id, idn, "", "", None, our_cat, our_amount,
                      f"按我方记录应由税务代缴{money(our_amount)}元（{names.get(our_cat, our_cat)}），税务代缴明细中没有此人"))
    return lines


LINE_COLUMNS = [("row_no", "integer"), ("kind", "varchar"), ("person_id", "bigint"), ("town_id", "bigint"),
                ("id_number", "varchar"), ("name", "varchar"), ("tax_category", "varchar"), ("tax_amount", "numeric"),
                ("our_category", "varchar"), ("our_amount", "numeric"), ("explanation", "text")]


def _write(rec: TaxReconciliation, lines) -> None:
    if is_postgresql():  # COPY: 200,000 lines in a few seconds (bench/reconcile.py)
        from django.db import connection

        cols = ", ".join(f'"{c}"' for c, _ in LINE_COLUMNS)
        sql = f'COPY "{TaxReconciliationLine._meta.db_table}" ({cols}, "reconciliation_id") FROM STDIN'
        with connection.cursor() as cur, cur.cursor.copy(sql) as copy:
            for ln in lines:
                copy.write_row((*ln, rec.pk))
        return
    names = [c for c, _ in LINE_COLUMNS]
    TaxReconciliationLine.objects.bulk_create(
        [TaxReconciliationLine(reconciliation=rec, **dict(zip(names, ln, strict=True))) for ln in lines], batch_size=5000)


def _names_filled(lines):
    """漏保 lines carry the person's name from our records (one query)."""
    from beneficiaries.models import Person

    missing = [i for i, ln in enumerate(lines) if ln[1] == K.MISSING]
    if not missing:
        return lines
    names = dict(Person.objects.filter(pk__in=[lines[i][2] for i in missing]).values_list("pk", "name"))
    for i in missing:
        ln = lines[i]
        lines[i] = (*ln[:5], names.get(ln[2], ""), *ln[6:])
    return lines


def _check_clerk(user) -> None:
    if not (user.is_superuser or user.has_role(Role.DISTRICT_CLERK)):
        raise FundingError("只有区医保经办人员可以导入税务代缴明细。")


def _year_lock(year: int) -> None:
    """One upload or reconciliation of a year's 代缴明细 decides "already uploaded?" at a time
    (PostgreSQL: a transaction advisory lock; released at commit)."""
    if is_postgresql():
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_KEY, int(year)])


def _earlier(rec_or_none, **match):
    """An upload of the same year that was not turned down (queued, running or done) matching ``match``."""
    qs = TaxReconciliation.objects.filter(**match).exclude(status=TaxReconciliation.Status.FAILED)
    if rec_or_none is not None:
        qs = qs.exclude(pk=rec_or_none.pk)
    return qs.select_related("uploaded_by").order_by("pk").first()


def _named(rec: TaxReconciliation) -> str:
    who = str(rec.uploaded_by) if rec.uploaded_by_id else "—"
    return (f"第{rec.pk}号核对（文件“{rec.file_name}”，{who}于{timezone.localtime(rec.uploaded_at):%Y-%m-%d %H:%M}上传，"
            f"{rec.get_status_display()}）")


def content_digest(year: int, rows) -> str:
    """The rows' content whatever their order and 序号: id number, town, category and amount."""
    h = hashlib.sha256(f"{year}\n".encode())
    for idn, town, category, amount in sorted((r[1], _key(r[3]), _key(r[4]), str(r[5])) for r in rows):
        h.update(f"{idn}\t{town}\t{category}\t{amount}\n".encode())
    return h.hexdigest()


def tax_reconciliation_queue(*, year: int, file_name: str, data: bytes, user, send: bool = True) -> TaxReconciliation:
    """The page's part: store the file and queue its reconciliation (the task after commit). The same
    bytes as an earlier upload of the year are refused here, naming it."""
    _check_clerk(user)
    sha = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        _year_lock(year)
        earlier = _earlier(None, year=year, sha256=sha)
        if earlier is not None:
            raise FundingError(f"该文件与{_named(earlier)}完全相同，不再重复导入。如需按最新的资助参保结果重新核对，"
                               "请打开该次核对查看。")
        rec = TaxReconciliation.objects.create(year=year, file_name=file_name[:200], data=data, file_size=len(data),
                                               sha256=sha, uploaded_by=user)
        jobs.queue(rec, by=user, reason="上传")
        audit_bulk(actor=user, what="上传待核对", obj=rec, summary={"文件": rec.file_name, "大小（字节）": len(data)})
        if send:
            from ..tasks import tax_reconciliation as task

            transaction.on_commit(lambda: task.delay(rec.pk))
    return rec


def tax_reconciliation_run(*, reconciliation_id: int) -> TaxReconciliation | None:
    """The task's part (yfbz.core.jobs): read, reconcile and write the lines; done in the same
    transaction, or failed with the reason in Chinese and nothing kept."""
    return jobs.run(TaxReconciliation, reconciliation_id, lambda token: _work(reconciliation_id, token))


def _work(reconciliation_id: int, token: str) -> TaxReconciliation | None:
    rec = TaxReconciliation.objects.select_related("uploaded_by").get(pk=reconciliation_id)
    data = bytes(TaxReconciliation.objects.filter(pk=rec.pk).values_list("data", flat=True)[0])
    table, rows = _read(data)
    digest = content_digest(rec.year, rows)
    with transaction.atomic():
        _year_lock(rec.year)
        if not jobs.still_mine(TaxReconciliation, rec.pk, token):
            return None
        earlier = _earlier(rec, year=rec.year, content_sha256=digest)
        if earlier is not None:
            raise FundingError(f"该文件的{rec.year}年代缴明细（{len(rows):,}行，各镇街人员、代缴类别和金额）与{_named(earlier)}"
                               "完全相同，不再重复核对。")
        lines = _names_filled(reconcile(rows, rec.year))
        counts = Counter(ln[1] for ln in lines)
        agreed = sum((ln[7] for ln in lines if ln[1] == K.AGREED), ZERO)
        _write(rec, lines)
        jobs.done(
            TaxReconciliation, rec.pk, token, finished_at=timezone.now(), content_sha256=digest,
            reading=table.reading, rows=len(rows), counts={k: counts.get(k, 0) for k in K.values}, agreed_total=agreed)
        rec.refresh_from_db()
        audit_bulk(actor=rec.uploaded_by, what=str(rec), obj=rec, summary={
            "明细行数": len(rows), **{K(k).label: v for k, v in counts.items()}, "一致金额合计": str(agreed)})
    return rec


def tax_reconciliation_import(*, year: int, file_name: str, data: bytes, user) -> TaxReconciliation:
    """Queue and run at once, in this process (the demo data, bench/reconcile.py, tests): the same
    job as the page's; a refusal raises ``FundingError`` (the row is left failed with the reason)."""
    rec = tax_reconciliation_queue(year=year, file_name=file_name, data=data, user=user, send=False)
    tax_reconciliation_run(reconciliation_id=rec.pk)
    rec.refresh_from_db()
    return rec


def town_summary(rec: TaxReconciliation, user) -> list[dict]:
    """Per town (those the user sees): people per kind and the agreed total."""
    qs = TaxReconciliationLine.objects.visible_to(user).filter(reconciliation=rec)
    out: dict[int | None, dict] = defaultdict(lambda: {"counts": {k: 0 for k in K.values}, "agreed": ZERO})
    for town_id, kind, n, s in qs.order_by().values_list("town_id", "kind").annotate(
            n=Count("id"), s=Sum("tax_amount")):
        out[town_id]["counts"][kind] = n
        if kind == K.AGREED:
            out[town_id]["agreed"] = s or ZERO
    towns = Town.objects.in_bulk([t for t in out if t])
    return [{"town": towns.get(t) if t else None, **v} for t, v in sorted(out.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]


def _route_b_people(year: int, person_ids: list[int]) -> set[int]:
    """Those of ``person_ids`` whose ``year`` subsidy is paid by route (b): a route row, or a self-paid
    report approved or paid (a report still waiting is refused later, by the route (a) row written now)."""
    taken = set(SubsidyRoute.objects.filter(year=year, route=SubsidyRoute.Route.SELF_PAID, person_id__in=person_ids)
                .values_list("person_id", flat=True))
    taken |= set(SelfPaidReport.objects.filter(year=year, person_id__in=person_ids, status__in=[
        SelfPaidReport.Status.APPROVED, SelfPaidReport.Status.PAID]).values_list("person_id", flat=True))
    return taken


ROUTE_B_AT_SETTLEMENT = ("确认结算时此人{year}年已按途径二（个人自缴后资助）资助，未计入本次税务代缴结算；"
                         "途径一和途径二不能同时享受，请与税务部门核对已代缴的款项")


def tax_reconciliation_settle(*, reconciliation_id: int, town_id: int, payee_name: str, bank_name: str,
                              bank_account: str, user, on=None) -> TaxListSettlement:
    """Route (a)'s settlement of a town from the reconciliation: the agreed total not yet settled for
    the town and year becomes payable (``funding.payables._tax_payables``). Confirmed by someone other
    than the clerk who imported the file (maker ≠ checker).

    Every person settled is recorded on route (a) through ``subsidy_route_take`` (the one door both
    routes go through), so route (b) is closed to them from now on. A person paid by route (b) since
    the file was reconciled is never paid twice: their line is flagged 两种方式重复资助 with the reason
    and left out of the amount; ``settlement.flagged`` names them for the page."""
    from .subsidies import subsidy_route_take

    if not (user.is_superuser or user.has_role(Role.DISTRICT_CLERK) or user.has_role(Role.DISTRICT_REVIEWER)):
        raise FundingError("只有区医保经办或审核人员可以确认税务代缴结算。")
    if not (payee_name.strip() and bank_name.strip() and bank_account.strip()):
        raise FundingError("请填写收款单位、开户银行和银行账号")
    with transaction.atomic():
        town = Town.objects.select_for_update().get(pk=town_id)  # one confirmation per town at a time
        rec = TaxReconciliation.objects.select_for_update().get(pk=reconciliation_id)
        if rec.status != TaxReconciliation.Status.DONE:
            raise FundingError(f"{rec}{rec.get_status_display()}，核对完成后才能确认结算。")
        if rec.uploaded_by_id == user.pk:
            raise FundingError("导入税务代缴明细的人员不能确认其结算（经办与审核分离）。")
        agreed = list(TaxReconciliationLine.objects.filter(reconciliation=rec, town=town, kind=K.AGREED)
                      .order_by("pk").values_list("pk", "person_id", "tax_amount", "name"))
        route_b = _route_b_people(rec.year, [pid for _pk, pid, _a, _n in agreed])
        flagged = [(pk, name, amount) for pk, pid, amount, name in agreed if pid in route_b]
        kept = [(pid, amount) for _pk, pid, amount, _n in agreed if pid not in route_b]
        total = sum((amount for _pid, amount in kept), ZERO)
        settled = TaxListSettlement.objects.filter(year=rec.year, town=town).aggregate(s=Sum("amount"))["s"] or ZERO
        amount = total - settled
        if amount <= 0:
            also = (f"（另有{'、'.join(n for _pk, n, _a in flagged)}已按途径二资助，不能再按税务代缴结算）"
                    if flagged else "")
            raise FundingError(f"{town.name}{rec.year}年税务代缴明细中一致的金额{money(total)}元"
                               f"已全部结算（已结算{money(settled)}元），没有尚未结算的金额{also}")
        if flagged:
            TaxReconciliationLine.objects.filter(pk__in=[pk for pk, _n, _a in flagged]).update(
                kind=K.BOTH_ROUTES, explanation=ROUTE_B_AT_SETTLEMENT.format(year=rec.year))
            gone = sum((a for _pk, _n, a in flagged), ZERO)
            rec.counts = {**rec.counts, K.AGREED.value: rec.counts.get(K.AGREED.value, 0) - len(flagged),
                          K.BOTH_ROUTES.value: rec.counts.get(K.BOTH_ROUTES.value, 0) + len(flagged)}
            rec.agreed_total -= gone
            rec.save(update_fields=["counts", "agreed_total"])
        settlement = TaxListSettlement.objects.create(
            year=rec.year, town=town, people=len(kept), amount=amount, payee_name=payee_name.strip(),
            bank_name=bank_name.strip(), bank_account=bank_account.strip(), confirmed_by=user,
            confirmed_on=on or timezone.localdate(),
        )
        # everyone settled is now paid by route (a) for the year: route (b) is closed to them
        subsidy_route_take(year=rec.year, route=SubsidyRoute.Route.TAX, person_ids=[pid for pid, _a in kept],
                           settlement=settlement)
        settlement.flagged = [n for _pk, n, _a in flagged]
        return settlement
