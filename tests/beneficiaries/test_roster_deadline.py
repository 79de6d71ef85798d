"""Rosters never stall (issue 11): each town's review is due within 5 working days (official calendar)
of the roster being sent; before that the district cannot confirm while a town has rows pending; after
it the reviewer may confirm with a reason, and the late towns' rows are accepted as sent, marked so.
The roster page, the home page and the duty board say who is late."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from beneficiaries import services
from beneficiaries.models import RosterRow, RosterStatusChange, RosterUpload
from beneficiaries.selectors import working_days
from tests.beneficiaries.conftest import ids, roster_xlsx

pytestmark = pytest.mark.django_db


def test_the_deadline_is_the_fifth_working_day_after_sending_on_the_official_calendar():
    upload = RosterUpload(submitted_at=timezone.make_aware(datetime(2025, 9, 26, 10)))  # Friday before 国庆
    # 9-28 (Sunday) is a make-up working day; 10-1…10-8 are the holiday; 10-11 (Saturday) is a make-up day
    assert services.review_deadline(upload) == date(2025, 10, 10)
    upload = RosterUpload(submitted_at=timezone.make_aware(datetime(2025, 3, 3, 9)))  # an ordinary Monday
    assert services.review_deadline(upload) == date(2025, 3, 10)


@pytest.fixture
def sent_roster(upload_file, staff):
    """A civil roster of three people of 双龙湖 and two of 回兴, sent to the towns; 双龙湖 has reviewed."""
    rows = [(n, f"人员{i}", "低保", "双龙湖街道" if i < 3 else "回兴街道", "", "") for i, n in enumerate(ids(5))]
    upload = upload_file(roster_xlsx(rows)).upload
    services.roster_submit(upload=upload, user=staff["civil_officer"])
    services.roster_rows_review(upload=upload, user=staff["slh_clerk"], accept=True)
    return upload


def _send_back_in_time(upload, working_days_ago):
    day, n = timezone.localdate(), 0
    while n < working_days_ago:
        day -= timedelta(days=1)
        n += working_days(day, 1)[0] == day
    at = timezone.make_aware(datetime.combine(day, datetime.min.time().replace(hour=10)))
    RosterUpload.objects.filter(pk=upload.pk).update(submitted_at=at, uploaded_at=at)
    upload.refresh_from_db()


def test_before_the_deadline_a_town_with_pending_rows_holds_the_confirmation(sent_roster, staff, login):
    with pytest.raises(ValidationError) as err:
        services.roster_confirm(upload=sent_roster, user=staff["reviewer"], overdue_reason="等不及了")
    assert "回兴街道" in str(err.value) and "期限届满前" in str(err.value)
    page = login(staff["reviewer"]).get(f"/people/rosters/{sent_roster.pk}/").content.decode()
    assert "镇街审核期限" in page and "期满后可由区医保确认并按报送接受" in page and "overdue-reason" not in page


def test_after_the_deadline_the_reviewer_confirms_with_a_reason_and_late_rows_are_accepted_as_sent(
        sent_roster, staff, login, run_jobs):
    _send_back_in_time(sent_roster, 6)
    reviewer = login(staff["reviewer"])
    # who is late: the roster page, the home page, the duty board
    page = reviewer.get(f"/people/rosters/{sent_roster.pk}/").content.decode()
    assert "已逾期" in page and "按报送内容接受" in page and 'name="overdue_reason"' in page
    home = reviewer.get("/").content.decode()
    assert "镇街逾期未审核" in home and "回兴街道" in home
    # the board of the month after the roster's month shows the late town
    month = sent_roster.month
    board = reviewer.get(f"/people/rosters/duty/?month={(month + timedelta(days=40)):%Y-%m}").content.decode()
    assert "逾期未审核" in board
    hx_home = login(staff["hx_clerk"]).get("/").content.decode()
    assert "本镇街逾期未审核" in hx_home

    # without a reason: refused, nothing changed
    reviewer = login(staff["reviewer"])
    resp = reviewer.post(f"/people/rosters/{sent_roster.pk}/action", {"action": "confirm"}, follow=True)
    assert "请填写原因" in resp.content.decode()
    assert RosterRow.objects.filter(upload=sent_roster, review="pending").count() == 2
    # with a reason: confirmed; 回兴's two rows accepted as sent, marked so, the reason kept
    with run_jobs():
        reviewer.post(f"/people/rosters/{sent_roster.pk}/action",
                      {"action": "confirm", "overdue_reason": "已电话催办三次，回兴街道未审核"})
    sent_roster.refresh_from_db()
    assert sent_roster.status == RosterUpload.Status.CONFIRMED
    late = RosterRow.objects.filter(upload=sent_roster, review=RosterRow.Review.OVERDUE)
    assert {r.town.code for r in late} == {"HX"} and late.count() == 2
    assert all(r.review_reason == "已电话催办三次，回兴街道未审核" and r.reviewed_by == staff["reviewer"] for r in late)
    assert RosterRow.objects.filter(upload=sent_roster, review="accepted", town__code="SLH").count() == 3
    note = RosterStatusChange.objects.filter(upload=sent_roster, to_status="confirming").get().reason
    assert "回兴街道逾期未审核的2行按报送接受" in note
    page = reviewer.get(f"/people/rosters/{sent_roster.pk}/").content.decode()
    assert "逾期未审核，按报送接受" in page
    # the people of 回兴 got their identities like everybody else
    from beneficiaries.models import Identity

    assert Identity.objects.filter(person__town__code="HX", category__code="DIBAO", started_by=sent_roster).count() == 2


def test_the_department_officer_is_told_of_rows_a_town_sent_back(sent_roster, staff, login):
    row = RosterRow.objects.filter(upload=sent_roster, town__code="HX").first()
    services.roster_rows_review(upload=sent_roster, user=staff["hx_clerk"], row_ids=[row.pk], accept=False,
                                reason="本人已迁出本镇街")
    officer = login(staff["civil_officer"])
    todo = {t["label"]: (t["count"], t["url"]) for t in officer.get("/").context["todo"]}
    count, url = todo["镇街退回的名单行（请核实后更正或重报）"]
    assert count == 1 and url == f"/people/rosters/{sent_roster.pk}/?review=sent_back"
    assert "本人已迁出本镇街" in officer.get(url).content.decode()
    assert "镇街退回的名单行（请核实后更正或重报）" not in {t["label"] for t in login(staff["veterans_officer"]).get("/").context["todo"]}
