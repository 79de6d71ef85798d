"""Queries of the funding app. Lists of people's data start from visible_to(user)."""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum

from .models import (
    Account,
    Enrolment,
    EnrolmentKind,
    EntryKind,
    Fund,
    JournalLine,
    Payment,
    SelfPaidReport,
    SubsidyResult,
    SubsidyRoute,
    YoufuBudget,
)

ZERO = Decimal("0.00")
ROUTE_A = (EnrolmentKind.RESIDENT_T1, EnrolmentKind.RESIDENT_T2)


def fund_requests(user):
    """Fund requests of the user's district (docs/areas.md, funds by area): yfbz.core.scoping.district_q.
    The request's page, its form as PDF (built by a task as the user who asked) and its actions read it here."""
    from yfbz.core.scoping import district_q

    from .models import FundRequest

    return FundRequest.objects.filter(district_q(user))


def own_accounts():
    return Account.objects.filter(kind=Account.Kind.OWN).order_by("pk")


def balances() -> list[dict]:
    sums = dict(JournalLine.objects.values("account").annotate(s=Sum("amount")).values_list("account", "s"))
    return [{"account": a, "balance": sums.get(a.pk) or ZERO} for a in own_accounts()]


def balances_by_pool(until: date | None = None) -> list[dict]:
    """Every pool (a district's, the city's: docs/areas.md) with its own accounts and their balances."""
    from yfbz.areas.tree import area_tree

    tree = area_tree()
    lines = JournalLine.objects.all()
    if until is not None:
        lines = lines.filter(entry__date__lte=until)
    sums = dict(lines.values("account").annotate(s=Sum("amount")).values_list("account", "s"))
    bureau = tree.bureau_on(until or date.today())
    pools: dict[int | None, dict] = {}
    for a in own_accounts():
        area_id = a.area_id or (bureau.district_id if bureau else None)
        pool = pools.setdefault(area_id, {"area": tree.area(area_id), "accounts": [], "by_fund": defaultdict(lambda: ZERO)})
        bal = sums.get(a.pk) or ZERO
        pool["accounts"].append({"account": a, "balance": bal})
        pool["by_fund"][a.get_fund_display()] += bal
    for pool in pools.values():
        pool["by_fund"] = dict(pool["by_fund"])
    return list(pools.values())


def tax_list(user, *, year: int, town_id: int | None = None):
    """Route (a): people of the town enrolled as residents with a subsidy, not self-paid (they go by route b)."""
    qs = SubsidyResult.objects.visible_to(user).filter(year=year, amount__gt=0, enrolment__in=ROUTE_A)
    self_paid = Enrolment.objects.filter(year=year, self_paid=True).values("person_id")
    qs = qs.exclude(person_id__in=self_paid)
    # route (b) reported (not turned down) or approved: never on the tax list too, whatever the
    # enrolment's 是否自行缴费 says (issue 10, finding 2: routes (a) and (b) are exclusive)
    qs = qs.exclude(person_id__in=SelfPaidReport.objects.filter(year=year).exclude(status=SelfPaidReport.Status.REJECTED)
                    .values("person_id"))
    qs = qs.exclude(person_id__in=SubsidyRoute.objects.filter(year=year, route=SubsidyRoute.Route.SELF_PAID).values("person_id"))
    if town_id:
        qs = qs.filter(person__town_id=town_id)
    return qs.select_related("person", "person__town").order_by("person__town__code", "person__name", "person_id")


def gap_results(user, *, year: int, town_id: int | None = None):
    """The subsidy results behind the 漏保断保 list (scoped, not yet listed: counted by the export's limit)."""
    qs = SubsidyResult.objects.visible_to(user).filter(year=year, amount=0).exclude(enrolment=EnrolmentKind.EMPLOYEE_EMPLOYER)
    if town_id:
        qs = qs.filter(person__town_id=town_id)
    return qs


def gap_list(user, *, year: int, town_id: int | None = None):
    """漏保、断保: people with a qualifying identity this year but no enrolment or no subsidy.
    断保 when they were enrolled the year before, 漏保 otherwise."""
    from django.db.models import Exists, OuterRef

    # enrolled the year before: asked per listed row (the unique (person, year) index), not by reading every
    # person enrolled that year into Python (a million ids, ~1 s, for a town's list of a few rows: issue 14)
    before = Enrolment.objects.filter(person_id=OuterRef("person_id"), year=year - 1).exclude(kind=EnrolmentKind.NOT_ENROLLED)
    rows = (gap_results(user, year=year, town_id=town_id).annotate(enrolled_before=Exists(before))
            .select_related("person", "person__town").order_by("person__town__code", "person__name", "person_id"))
    return [(r, "断保" if r.enrolled_before else "漏保") for r in rows]


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def month_report(year: int, month: int) -> dict:
    """Money in and out per account and per category of spending, per scheme, per town, and the
    veterans' fund's budget against what was spent this year. Closing balances are sums of lines."""
    first, last = month_bounds(year, month)
    accounts = []
    for acc in own_accounts():
        lines = JournalLine.objects.filter(account=acc)
        opening = lines.filter(entry__date__lt=first).aggregate(s=Sum("amount"))["s"] or ZERO
        m = lines.filter(entry__date__range=(first, last)).aggregate(
            inflow=Sum("amount", filter=Q(amount__gt=0)), outflow=Sum("amount", filter=Q(amount__lt=0))
        )
        inflow, outflow = m["inflow"] or ZERO, -(m["outflow"] or ZERO)
        accounts.append({"account": acc, "opening": opening, "inflow": inflow, "outflow": outflow,
                         "closing": opening + inflow - outflow})
    kinds = dict(EntryKind.choices)
    by_kind = [
        {"account": r["account__name"], "kind": kinds.get(r["entry__kind"], r["entry__kind"]), "amount": r["s"]}
        for r in JournalLine.objects.filter(account__kind=Account.Kind.OWN, entry__date__range=(first, last))
        .values("account__name", "account_id", "entry__kind").annotate(s=Sum("amount")).order_by("account_id", "entry__kind")
    ]
    paid = Payment.objects.filter(status=Payment.Status.PAID, batch__paid_on__range=(first, last))
    funds = dict(Fund.choices)
    by_scheme = [
        {"fund": funds[r["line__fund"]], "scheme": r["line__scheme"] or "—", "n": r["n"], "amount": r["s"]}
        for r in paid.values("line__fund", "line__scheme").annotate(n=Count("pk"), s=Sum("amount")).order_by("line__fund", "line__scheme")
    ]
    by_town = [
        {"town": r["line__town__name"] or "（医疗机构及无镇街）", "n": r["n"], "amount": r["s"]}
        for r in paid.values("line__town__code", "line__town__name").annotate(n=Count("pk"), s=Sum("amount")).order_by("line__town__code")
    ]
    budget = YoufuBudget.objects.filter(year=year).first()
    spent = -(
        JournalLine.objects.filter(account__code="YOUFU", entry__date__range=(date(year, 1, 1), last))
        .filter(Q(entry__kind=EntryKind.PAY_YOUFU) | Q(entry__kind=EntryKind.REVERSAL, amount__gt=0, entry__reverses__kind=EntryKind.PAY_YOUFU))
        .aggregate(s=Sum("amount"))["s"] or ZERO
    )
    return {
        "year": year, "month": month, "first": first, "last": last, "accounts": accounts, "by_kind": by_kind,
        "by_scheme": by_scheme, "by_town": by_town,
        "youfu": {"budget": budget.amount if budget else None, "spent": spent,
                  "left": (budget.amount - spent) if budget else None},
    }


def source_label(key: str) -> str:
    """A payable's source key in words (decision:12:ASSISTANCE → 手工报销核定12（医疗救助资金）)."""
    from .models import Fund

    parts = key.split(":")
    kinds = {
        "decision": lambda p: f"手工报销核定{p[1]}" + (f"（{Fund(p[2]).label}）" if len(p) > 2 and p[2] in Fund.values else ""),
        "settlement": lambda p: f"{p[1]} {p[2].replace('-', '年')}月一站式结算",
        "settlement-adj": lambda p: f"一站式结算重新审核补付（明细{p[1]}）",
        "subsidy-b": lambda p: f"自行缴费资助{p[1]}",
        "subsidy-a": lambda p: f"税务代缴资助结算{p[1]}",
    }
    try:
        return kinds[parts[0]](parts)
    except (KeyError, IndexError, ValueError):
        return key


def request_withdrawn(req) -> list:
    """The lines of a request withdrawn before payment, each with what became of money already transferred."""
    return list(
        req.lines.filter(status="withdrawn").select_related("withdrawn_funds", "withdrawn_funds__applied_to",
                                                            "withdrawn_funds__entry").order_by("pk")
    )


def request_summary(req) -> dict:
    """A fund request's totals: by fund/spending/scheme, per institution, per town — of the lines
    still to be paid or paid (withdrawn lines are listed apart, with their total)."""
    withdrawn = req.lines.filter(status="withdrawn").aggregate(n=Count("pk"), total=Sum("amount"))
    lines = req.lines.exclude(status__in=["withdrawn", "cancelled"])  # a cancelled request's lines pay nothing
    groups = defaultdict(list)
    for r in lines.values("fund", "spending", "scheme").annotate(n=Count("pk"), total=Sum("amount")).order_by("fund", "spending", "scheme"):
        groups[r["fund"]].append(r)
    institutions = list(
        lines.filter(payee_kind="INSTITUTION").values("payee_name", "fund").annotate(n=Count("pk"), total=Sum("amount")).order_by("payee_name")
    )
    towns = list(
        lines.filter(payee_kind="PERSON").values("town__name", "town__code").annotate(n=Count("pk"), total=Sum("amount")).order_by("town__code")
    )
    from .services.requests import transfer_due, withdrawn_assistance

    return {"groups": dict(groups), "institutions": institutions, "towns": towns,
            "withdrawn_n": withdrawn["n"] or 0, "withdrawn_total": withdrawn["total"] or Decimal("0.00"),
            "withdrawn_assistance": withdrawn_assistance(req), "transfer_due": transfer_due(req)}


def subsidy_missing(year: int) -> list[str]:
    """Why a subsidy run for ``year`` finds nobody (or would): each missing input in words, so that a
    run of 0 people is explained instead of shown as a silent zero (issue 11). Empty when all are there."""
    from beneficiaries.models import Identity, RosterUpload
    from yfbz.policy.models import ContributionStandard

    from .models import Enrolment

    out = []
    if not ContributionStandard.objects.filter(year=year, active=True).exists():
        out.append(f"未录入{year}年城乡居民医保个人缴费标准（管理后台 → 城乡居民医保个人缴费标准），资助金额无从计算")
    if not Enrolment.objects.filter(year=year).exists():
        out.append(f"未导入{year}年参保登记（本页“导入参保登记”），无法判断各人参保类型")
    start, end = date(year, 1, 1), date(year, 12, 31)
    identities = Identity.objects.filter(valid_from__lte=end).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
    if not identities.exists():
        confirmed = RosterUpload.objects.filter(status=RosterUpload.Status.CONFIRMED).exists()
        out.append(f"{year}年内没有任何在册身份" + ("" if confirmed else "（尚无已确认的身份名单）"))
    return out
