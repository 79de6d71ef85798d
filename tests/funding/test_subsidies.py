"""The year's subsidy run (POLICY.md §4, D8) and route (b), the self-paid list."""

from datetime import date
from decimal import Decimal

import pytest

from beneficiaries.models import Identity
from funding import services
from funding.models import (
    Enrolment,
    LateReportPermission,
    SelfPaidReport,
    SubsidyChange,
    SubsidyResult,
    SubsidyRun,
)
from funding.services import FundingError
from yfbz.policy.selectors import policy_in_force

pytestmark = pytest.mark.django_db


def enrol(person, kind, year=2025):
    return Enrolment.objects.create(person=person, year=year, kind=kind)


def run(year, user):
    r = services.subsidy_run_start(year=year, user=user)  # eager Celery: runs on commit
    return r


@pytest.fixture
def roster(make_person):
    """A DIBAO person in tier 1 (90% of T1), a veteran's widow in tier 2 (100% of T2), an employer-insured
    TEKUN (no subsidy), a DIBAO nobody enrolled (漏保) and a person whose identity ended in 2024."""
    p = {
        "dibao": make_person("低保甲", categories=("DIBAO",)),
        "widow": make_person("遗属乙", town="HX", categories=("BINGGU_YISHU",)),
        "employer": make_person("特困丙", categories=("TEKUN",)),
        "gap": make_person("漏保丁", categories=("DIBAO",)),
        "ended": make_person("已退出戊", categories=()),
    }
    Identity.objects.create(person=p["ended"], category_id=Identity.objects.first().category_id,
                            valid_from=date(2023, 1, 1), valid_to=date(2024, 12, 31))
    enrol(p["dibao"], "RESIDENT_T1")
    enrol(p["widow"], "RESIDENT_T2")
    enrol(p["employer"], "EMPLOYEE_EMPLOYER")
    enrol(p["ended"], "RESIDENT_T1")
    return p


def result(person, year=2025):
    return SubsidyResult.objects.filter(person=person, year=year).first()


def test_the_run_pays_each_person_by_their_best_identity_and_enrolment(django_capture_on_commit_callbacks, roster, staff):
    std = policy_in_force(date(2025, 12, 31)).standard_for(2025, "DIBAO")
    with django_capture_on_commit_callbacks(execute=True):
        r = run(2025, staff["district_clerk"])
    r.refresh_from_db()
    assert r.status == "done" and r.progress_percent == 100
    assert result(roster["dibao"]).amount == (std.t1 * Decimal("0.9")).quantize(Decimal("0.01"))
    assert result(roster["dibao"]).personal_part == std.t1 - result(roster["dibao"]).amount
    assert result(roster["widow"]).amount == std.t2
    assert result(roster["employer"]).amount == Decimal("0.00")
    assert result(roster["gap"]).amount == Decimal("0.00") and result(roster["gap"]).category == "DIBAO"
    assert result(roster["ended"]) is None
    assert r.count_eligible == 2
    assert r.total_amount == result(roster["dibao"]).amount + result(roster["widow"]).amount


def test_rerunning_after_a_roster_change_updates_the_result_and_lists_what_changed(django_capture_on_commit_callbacks, roster, staff, make_person):
    with django_capture_on_commit_callbacks(execute=True):
        run(2025, staff["district_clerk"])
    # the DIBAO person becomes TEKUN too (SUB_T1: 100% of T1); the widow's identity is withdrawn
    Identity.objects.create(person=roster["dibao"], category_id=Identity.objects.get(person=roster["employer"]).category_id,
                            valid_from=date(2025, 6, 1))
    Identity.objects.filter(person=roster["widow"]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        second = run(2025, staff["district_clerk"])
    second.refresh_from_db()
    std = policy_in_force(date(2025, 12, 31)).standard_for(2025, "TEKUN")
    assert (result(roster["dibao"]).category, result(roster["dibao"]).amount) == ("TEKUN", std.t1)
    assert result(roster["widow"]) is None
    changes = {c.person.name: (c.old_amount, c.new_amount) for c in SubsidyChange.objects.filter(run=second)}
    assert changes == {"低保甲": (std.t1 * Decimal("0.9"), std.t1), "遗属乙": (std.t2, None)}
    assert (second.count_changed, second.count_removed, second.count_new) == (1, 1, 0)


def test_running_the_task_twice_changes_nothing_the_second_time(django_capture_on_commit_callbacks, roster, staff):
    with django_capture_on_commit_callbacks(execute=True):
        r = run(2025, staff["district_clerk"])
    before = list(SubsidyResult.objects.order_by("person_id").values_list("person_id", "amount"))
    again = services.subsidy_run_execute(run_id=r.pk)
    assert again.status == "done"
    assert list(SubsidyResult.objects.order_by("person_id").values_list("person_id", "amount")) == before


def test_a_run_resumes_from_its_last_committed_batch(roster, staff):
    r = SubsidyRun.objects.create(year=2025, started_by=staff["district_clerk"])
    services.subsidy_run_execute(run_id=r.pk, batch_size=2)
    r.refresh_from_db()
    assert r.status == "done" and r.progress_done >= 5
    # a crashed run (status running, half done) is taken over by the next worker and finishes
    crashed = SubsidyRun.objects.create(year=2025, started_by=staff["district_clerk"], status="running",
                                        job_token="dead-worker", last_person_id=roster["widow"].pk)
    services.subsidy_run_execute(run_id=crashed.pk, batch_size=2)
    crashed.refresh_from_db()
    assert crashed.status == "done"
    assert crashed.progress_done < r.progress_done


def test_a_second_run_cannot_start_while_one_is_running(roster, staff):
    from tests.worker_process import another_worker_holding

    run = SubsidyRun.objects.create(year=2025, started_by=staff["district_clerk"], status="running")
    with another_worker_holding(run), pytest.raises(FundingError, match="正在进行中"):
        services.subsidy_run_start(year=2025, user=staff["district_clerk"])
    # its worker died (issue 10, finding 5): not "wait an hour" but "rerun it", at once
    with pytest.raises(FundingError, match="已中断.*重新运行"):
        services.subsidy_run_start(year=2025, user=staff["district_clerk"])


# --- route (b) -----------------------------------------------------------------------------------
def report(person, user, today, **kw):
    args = dict(person=person, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400.00"), bank_name="重庆农商行",
                bank_account="6214000011112222", account_holder=person.name, user=user, today=today)
    args.update(kw)
    return services.selfpaid_report(**args)


def test_a_town_reports_a_self_paid_person_before_the_deadline_and_the_district_approves(roster, staff):
    rep = report(roster["dibao"], staff["slh_clerk"], date(2025, 7, 31))
    with pytest.raises(FundingError, match="不能审核自己"):
        services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["slh_clerk"])
    rep = services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(2025, 8, 5))
    std = policy_in_force(date(2025, 12, 31)).standard_for(2025, "DIBAO")
    assert rep.status == "approved" and rep.amount == (std.t1 * Decimal("0.9")).quantize(Decimal("0.01"))
    assert Enrolment.objects.get(person=roster["dibao"], year=2025).self_paid


def test_after_31_july_a_town_needs_the_districts_permission(roster, staff, towns):
    with pytest.raises(FundingError, match="截止上报"):
        report(roster["dibao"], staff["slh_clerk"], date(2025, 8, 1))
    LateReportPermission.objects.create(town=towns["SLH"], year=2025, until=date(2025, 8, 15), reason="补报",
                                        granted_by=staff["district_clerk"])
    assert report(roster["dibao"], staff["slh_clerk"], date(2025, 8, 1)).late_permission is not None
    # the permission of 双龙湖 does not open the list for 回兴
    with pytest.raises(FundingError, match="截止上报"):
        report(roster["widow"], staff["hx_clerk"], date(2025, 8, 1))


def test_a_town_cannot_report_another_towns_person(roster, staff):
    with pytest.raises(FundingError, match="本镇街"):
        report(roster["widow"], staff["slh_clerk"], date(2025, 7, 1))
    assert not SelfPaidReport.objects.exists()


def test_the_same_person_is_reported_only_once_a_year(roster, staff):
    report(roster["dibao"], staff["slh_clerk"], date(2025, 7, 1))
    with pytest.raises(FundingError, match="已上报过"):
        report(roster["dibao"], staff["slh_clerk"], date(2025, 7, 2))


def test_a_year_without_standard_or_enrolment_says_why_instead_of_a_silent_zero(roster, staff, login, django_capture_on_commit_callbacks):
    """Issue 11: a 2026 run found 可资助 0 人 and said nothing; the page names what is missing."""
    with django_capture_on_commit_callbacks(execute=True):
        run(2030, staff["district_clerk"])
    page = login(staff["district_clerk"]).get("/funding/subsidy/?year=2030").content.decode()
    assert "未录入2030年城乡居民医保个人缴费标准" in page and "未导入2030年参保登记" in page
    assert "因此最近一次计算可资助 0 人" in page
    assert "2030年内没有任何在册身份" not in page  # the people's identities are open
    ok = login(staff["district_clerk"]).get("/funding/subsidy/?year=2025").content.decode()
    assert 'data-testid="subsidy-missing"' not in ok
