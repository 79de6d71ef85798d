"""A build touches only the months that changed: the distinct people of a quarter and of the year come
from the presence table (reporting.Presence: per cell and person, the months as bitmasks), moved by
the people the build touched — and the figures are exactly those of a full rebuild of the year, change
after change, on the hand-worked year of conftest.py (docs/statistics.md "Distinct people of a quarter
and of the year")."""

import logging
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from reporting.build import MEASURES, aggregate_period, close_month, presence_rows, rebuild_year, refresh
from reporting.cuts import Period
from reporting.models import Aggregate, Presence, StatReturn

pytestmark = pytest.mark.django_db

PERIODS = [Period(2025), *(Period(2025, quarter=q) for q in range(1, 5)), *(Period(2025, month=m) for m in range(1, 13))]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the presence is PostgreSQL's (other databases count the year from the facts)")


@pytest.fixture(autouse=True)
def _never_out_of_step(caplog):
    """The build's safety net (the year built again when its counts and months disagree) never runs."""
    caplog.set_level(logging.ERROR, logger="reporting.build")
    yield
    assert [r.getMessage() for r in caplog.records if "out of step" in r.getMessage()] == []


def figures() -> dict:
    """Every aggregate row of 2025: (period, cut, cell) -> its twelve figures."""
    return {(a.period, a.grouping, a.key1, a.key2): tuple(getattr(a, m) for m in MEASURES)
            for a in Aggregate.objects.filter(year=2025)}


def presence() -> set:
    return presence_rows(2025)


def by_definition() -> dict:
    """The figures as docs/statistics.md defines them: one query per cut over the facts of each period."""
    return {(a.period, a.grouping, a.key1, a.key2): tuple(getattr(a, m) for m in MEASURES)
            for p in PERIODS for a in aggregate_period(p)}


def fresh_rebuild() -> tuple[dict, set]:
    """What rebuild_year gives now (then rolled back: the incremental state goes on)."""
    with transaction.atomic():
        sid = transaction.savepoint()
        rebuild_year(2025)
        out = figures(), presence()
        transaction.savepoint_rollback(sid)
    return out


def assert_as_rebuilt():
    refresh()
    got = figures()
    assert got == by_definition()
    assert (got, presence()) == fresh_rebuild()


def total(period: str) -> Aggregate:
    return Aggregate.objects.get(year=2025, period=period, grouping="")


def bill(note: str):
    from claims.models import Bill

    return Bill.objects.get(note__startswith=f"原系统票据{note}")


def redecide(staff, b, *, reason="录入错误更正"):
    from claims.services import bill_decide

    return bill_decide(bill_id=b.pk, user=staff["district_clerk"], reason=reason)


def approve(staff, b):
    from claims.services import decision_approve

    return decision_approve(bill_id=b.pk, user=staff["reviewer"], confirm_provisional=True)


def late_bill(staff, name: str, settled: date, in_policy="100.00"):
    from beneficiaries.models import Person
    from claims.models import Institution
    from claims.services import bill_decide, bill_enter

    b = bill_enter(user=staff["district_clerk"], person=Person.objects.get(name=name),
                   institution=Institution.objects.get(code="YB01"), kind="OUTPATIENT", disease="", admitted_on=None,
                   settled_on=settled, total_cost=Decimal(in_policy), in_policy_cost=Decimal(in_policy),
                   basic_paid=Decimal(in_policy) / 2, critical_paid=Decimal("0.00"))
    bill_decide(bill_id=b.pk, user=staff["district_clerk"])
    approve(staff, b)
    return b


def test_the_repair_rebuilds_the_year_and_fills_the_presence_with_each_persons_months(year_2025):
    from io import StringIO

    from django.core.management import call_command

    from beneficiaries.models import Person

    Presence.objects.all().delete()
    call_command("statistics", "--year", "2025", "--by", "scheme", "--rebuild", stdout=StringIO())  # the repair
    total_cell = {person: masks for g, _k1, _k2, person, *masks in presence_rows(2025) if g == ""}
    months = {name: total_cell[Person.objects.get(name=name).pk] for name in ("王建国", "李秀英", "陈志强", "赵丽")}
    bits = lambda *ms: sum(1 << (m - 1) for m in ms)  # noqa: E731
    # 王建国: March (one-stop), April and August, paid each time; 李秀英: February and May, the veterans'
    # subsidy both times; 陈志强 (January) and 赵丽 (March): decided, nothing granted
    assert {n: tuple(m) for n, m in months.items()} == {
        "王建国": (bits(3, 4, 8), bits(3, 4, 8), 0), "李秀英": (bits(2, 5), bits(2, 5), bits(2, 5)),
        "陈志强": (bits(1), 0, 0), "赵丽": (bits(3), 0, 0)}
    assert (total("Y").people, total("Y").case_people, total("Q2").people, total("Q3").people) == (2, 4, 2, 1)
    assert figures() == by_definition()


def test_the_presence_written_a_share_of_the_people_at_a_time_is_the_same(year_2025, monkeypatch):
    from reporting import build

    refresh()
    whole = fresh_rebuild()
    monkeypatch.setattr(build, "FACTS_PER_SHARE", 2)  # the year's 7 facts: four shares of the people
    assert fresh_rebuild() == whole
    assert len({p for *_, p, _s, _p, _y in whole[1]}) == 4


def test_change_after_change_the_figures_are_those_of_a_full_rebuild(year_2025, staff):
    from claims.services import bill_return, bill_update, decision_refuse
    from reporting.returns import return_approve, return_prepare
    from yfbz.policy.models import YoufuRule

    assert_as_rebuilt()
    q2 = return_prepare(kind=StatReturn.Kind.ASSISTANCE, period=Period(2025, quarter=2), user=staff["district_clerk"])
    q2 = return_approve(return_id=q2.pk, user=staff["reviewer"], responsible="张局长")
    locked = q2.figures

    # a late decision in a closed month: 李秀英's June outpatient bill (her veterans' subsidy too)
    june = late_bill(staff, "李秀英", date(2025, 6, 3))
    assert_as_rebuilt()
    assert total("M06").people == 1 and total("M06").youfu_people == 1
    assert (total("Q2").people, total("Q2").person_times, total("Y").people) == (2, 3, 2)  # one more time, nobody new

    # the veterans' subsidy changes: a rule from June pays nothing, the June bill decided again
    YoufuRule.objects.create(ratio=Decimal("0.00"), threshold=Decimal("0"), annual_cap=Decimal("1000"),
                             effective_from=date(2025, 6, 1), source="测试：6月起不予补助", status="provisional")
    redecide(staff, june, reason="政策调整")
    approve(staff, june)
    assert_as_rebuilt()
    assert (total("M06").youfu_people, total("Q2").youfu_people, total("Q2").youfu_times) == (0, 1, 1)

    # a decision moved to another month: 王建国's April stay was settled in July (returned, corrected, decided)
    e1 = bill("E1")
    redecide(staff, e1)
    bill_return(bill_id=e1.pk, user=staff["reviewer"], reason="结算日期录入错误")
    bill_update(bill_id=e1.pk, user=staff["district_clerk"], settled_on=date(2025, 7, 10))
    redecide(staff, e1)
    approve(staff, e1)
    assert_as_rebuilt()
    assert "M04" not in {k[0] for k in figures()}  # April had only this stay
    assert (total("Q2").people, total("Q3").people, total("Y").people) == (1, 1, 2)  # he left Q2; Q3 had him already

    # a refusal: 李秀英's May bill decided again and refused by the reviewer (papers not genuine)
    e3 = bill("E3")
    redecide(staff, e3)
    decision_refuse(bill_id=e3.pk, user=staff["reviewer"], reason="票据经核查不真实", code="DUPLICATE")
    assert_as_rebuilt()
    assert (total("M05").cases if Aggregate.objects.filter(year=2025, period="M05").exists() else 0) == 0
    assert (total("Q2").people, total("Q2").case_people, total("Y").people) == (1, 1, 2)  # her June bill remains

    # a person whose only month goes away: 陈志强's January bill refused — he leaves every count
    e4 = bill("E4")
    redecide(staff, e4)
    decision_refuse(bill_id=e4.pk, user=staff["reviewer"], reason="票据经核查不真实", code="DUPLICATE")
    assert_as_rebuilt()
    assert (total("Y").case_people, total("Q1").case_people) == (3, 3)
    assert not Presence.objects.filter(year=2025, person_id=e4.person_id).exists()

    # the approved return never moved
    q2.refresh_from_db()
    assert q2.status == StatReturn.Status.APPROVED and q2.figures == locked


def test_a_month_closed_again_without_changes_keeps_every_figure(year_2025):
    before = figures()
    out = close_month(2025, 8)
    assert out["facts"] == 1 and figures() == before
    assert set(out["steps"]) >= {"facts", "presence", "M08", "Q3", "Y"}


def test_months_withdrawn_and_arriving_whole_move_the_figures_as_a_rebuild(year_2025):
    """The bench's 2a on the hand-worked year: a month's decisions withdrawn (not approved yet) and built,
    then approved again and built — every number of the month leaves and enters at once, through the
    month, its quarter and the year (each counted once, in the widest of them it enters). April's
    王建国 stays in the year (March, August) and leaves Q2; May's 李秀英 stays in the year (February)."""
    from reporting.models import Signature
    from reporting.signals import queue_bills

    def approved(month, flag):
        with connection.cursor() as cur:
            cur.execute("UPDATE claims_decision SET reviewed_at = CASE WHEN %s THEN now() END "
                        "WHERE settled_on >= %s AND settled_on < %s RETURNING bill_id",
                        [flag, date(2025, month, 1), date(2025, month + 1, 1)])
            return [b for (b,) in cur.fetchall()]

    refresh()
    whole = figures()
    for month in (4, 5):
        approved(month, False)
        close_month(2025, month)
        assert_as_rebuilt()
        approved(month, True)
        close_month(2025, month)
        assert_as_rebuilt()
    # both months in one build (refresh): Q2 and the year each touched in two months
    queue_bills(approved(4, False) + approved(5, False))
    assert_as_rebuilt()
    assert not {"M04", "M05", "Q2"} & {k[0] for k in figures()}  # the quarter had only these two months
    queue_bills(approved(4, True) + approved(5, True))
    assert_as_rebuilt()
    assert figures() == whole
    # the signatures' numbers are made once and kept; made again from the cells they give the same
    assert Signature.objects.exists()
    Signature.objects.all().delete()
    approved(4, False)
    close_month(2025, 4)
    assert_as_rebuilt()


def test_a_year_built_before_the_presence_existed_is_built_whole_at_its_next_change(year_2025, staff):
    from reporting.models import PresenceYear

    Presence.objects.all().delete()
    PresenceYear.objects.all().delete()  # as after the migration on an installation with figures
    late_bill(staff, "李秀英", date(2025, 6, 3))
    assert_as_rebuilt()
    assert PresenceYear.objects.filter(year=2025).exists()


def at_once(fn, args_list):
    """fn(arg) for every arg in its own thread (own database connection), all released together."""
    barrier = threading.Barrier(len(args_list))
    errors = []

    def run(arg):
        try:
            barrier.wait(timeout=10)
            fn(arg)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(a,)) for a in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_two_months_of_one_year_built_at_once_leave_the_year_right(year_2025, staff, monkeypatch):
    """Both builds move the same cells of the year (the total, the outpatient cells): one builder
    at a time (the BuildState row lock), so the second reads the year the first wrote. Widened: each
    build waits 0.3 s between reading the year's counts and writing them."""
    from reporting import build, signals

    with monkeypatch.context() as m:
        m.setattr(signals, "request_refresh", lambda: None)  # the two late bills wait for the month builds
        late_bill(staff, "李秀英", date(2025, 6, 3))
        late_bill(staff, "陈志强", date(2025, 10, 3))
    assert total("Y").cases == 7
    real = build._rollup

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "_rollup", slow)
    at_once(lambda month: close_month(2025, month), [6, 10])
    got = figures()
    assert got == by_definition()
    assert (got, presence()) == fresh_rebuild()
    assert (total("Y").cases, total("Y").case_people, total("Q4").case_people) == (9, 4, 1)
