"""The roster pages: upload in the browser, town review limited to the clerk's own town (every door),
the errors download, confirmation, the duty board, retroactive changes and the person page."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from beneficiaries.models import Identity, RetroactiveChange, RosterRow, RosterUpload

from .conftest import ids, roster_xlsx

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def two_town_roster(upload_file, staff):
    """A validated CIVIL roster with people in 双龙湖 (SLH) and 回兴 (HX), submitted for town review."""
    from beneficiaries.services import roster_submit

    a, b, c = ids(3)
    rows = [(a, "双一", "低保", "双龙湖", "", ""), (b, "双二", "低保", "双龙湖街道", "", ""), (c, "回一", "低保", "回兴", "", ""),
            ("123", "错号", "低保", "回兴", "", "")]
    up = upload_file(roster_xlsx(rows)).upload
    roster_submit(upload=up, user=staff["civil_officer"])
    up.refresh_from_db()
    return up


def test_uploading_through_the_page_validates_and_shows_the_summary(staff, login, towns, run_jobs):
    client = login(staff["civil_officer"])
    data = roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(2)])
    with run_jobs():
        resp = client.post(reverse("beneficiaries:roster-list"), {
            "department": staff["civil_officer"].department_id, "month": "2025-03", "mode": "snapshot",
            "file": io.BytesIO(data),
        }, format="multipart")
    upload = RosterUpload.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("beneficiaries:roster-detail", args=[upload.pk])
    page = client.get(resp.url).content.decode()
    assert "已校验" in page and upload.count_new == 2
    assert bytes(upload.file.data) == data  # the file itself is kept in the database


def test_a_department_officer_cannot_upload_for_another_department(staff, login, departments):
    client = login(staff["veterans_officer"])
    resp = client.post(reverse("beneficiaries:roster-list"), {
        "department": departments["CIVIL"].pk, "month": "2025-03", "mode": "snapshot",
        "file": io.BytesIO(roster_xlsx([])),
    })
    assert resp.status_code == 200  # the form refuses a department not offered to them
    assert RosterUpload.objects.count() == 0


def test_a_town_clerk_sees_and_reviews_only_their_own_towns_rows(two_town_roster, staff, login):
    up = two_town_roster
    client = login(staff["slh_clerk"])
    page = client.get(reverse("beneficiaries:roster-detail", args=[up.pk]))
    names = {r.name for r in page.context["page"]}
    assert names == {"双一", "双二"}
    assert page.context["my_pending"] == 2
    resp = client.post(reverse("beneficiaries:roster-review", args=[up.pk]), {"decision": "accept"})
    assert resp.status_code == 302
    reviews = dict(RosterRow.objects.filter(upload=up).values_list("name", "review"))
    assert reviews == {"双一": "accepted", "双二": "accepted", "回一": "pending", "错号": "pending"}


def test_a_town_clerk_cannot_review_another_towns_row_by_its_id(two_town_roster, staff, login):
    other = RosterRow.objects.get(upload=two_town_roster, name="回一")
    client = login(staff["slh_clerk"])
    resp = client.post(reverse("beneficiaries:roster-review", args=[two_town_roster.pk]),
                       {"decision": "send_back", "row": other.pk, "reason": "不是本镇街"})
    assert resp.status_code == 404
    other.refresh_from_db()
    assert other.review == "pending"


def test_a_town_clerk_cannot_download_another_towns_errors(two_town_roster, staff, login):
    resp = login(staff["slh_clerk"]).get(reverse("beneficiaries:roster-issues", args=[two_town_roster.pk]))
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert list(ws.iter_rows(min_row=2, values_only=True)) == []  # the invalid row belongs to 回兴
    assert "123" not in resp.content.decode("latin-1")


def test_a_town_clerk_gets_404_for_a_roster_not_yet_sent_to_towns_and_for_json_progress(upload_file, staff, login):
    up = upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(1)])).upload
    client = login(staff["slh_clerk"])
    assert client.get(reverse("beneficiaries:roster-detail", args=[up.pk])).status_code == 404
    assert client.get(reverse("beneficiaries:roster-progress", args=[up.pk])).status_code == 404
    assert login(staff["veterans_officer"]).get(reverse("beneficiaries:roster-detail", args=[up.pk])).status_code == 404


def test_the_review_form_does_not_redirect_to_another_site(two_town_roster, staff, login):
    resp = login(staff["slh_clerk"]).post(reverse("beneficiaries:roster-review", args=[two_town_roster.pk]),
                                           {"decision": "accept", "next": "https://evil.example/"})
    assert resp.url == reverse("beneficiaries:roster-detail", args=[two_town_roster.pk])


def test_sending_back_needs_a_reason_and_records_who(two_town_roster, staff, login):
    row = RosterRow.objects.get(upload=two_town_roster, name="回一")
    client = login(staff["hx_clerk"])
    client.post(reverse("beneficiaries:roster-review", args=[two_town_roster.pk]), {"decision": "send_back", "row": row.pk})
    row.refresh_from_db()
    assert row.review == "pending"
    client.post(reverse("beneficiaries:roster-review", args=[two_town_roster.pk]),
                {"decision": "send_back", "row": row.pk, "reason": "已迁出本镇街"})
    row.refresh_from_db()
    assert (row.review, row.review_reason, row.reviewed_by) == ("sent_back", "已迁出本镇街", staff["hx_clerk"])


def test_the_district_confirms_only_after_every_town_reviewed_and_sent_back_rows_are_not_applied(
    two_town_roster, staff, login, run_jobs
):
    up = two_town_roster
    district = login(staff["district_clerk"])
    url = reverse("beneficiaries:roster-action", args=[up.pk])
    district.post(url, {"action": "confirm"})
    up.refresh_from_db()
    assert up.status == "town_review"  # 3 rows still pending
    RosterRow.objects.filter(upload=up, name__startswith="双").update(review="accepted")
    RosterRow.objects.filter(upload=up, name="回一").update(review="sent_back", review_reason="已迁出")
    with run_jobs():
        district.post(url, {"action": "confirm"})
    up.refresh_from_db()
    assert up.status == "confirmed" and up.confirmed_by == staff["district_clerk"]
    assert set(Identity.objects.values_list("person__name", flat=True)) == {"双一", "双二"}
    history = [(c.from_status, c.to_status, c.by.username if c.by else None) for c in up.status_changes.all()]
    assert history[-2:] == [("town_review", "confirming", "district_clerk"), ("confirming", "confirmed", "district_clerk")]


def test_the_uploader_cannot_confirm_their_own_roster(upload_file, staff, login):
    from beneficiaries.services import roster_submit

    up = upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(1)]), user=staff["district_clerk"]).upload
    roster_submit(upload=up, user=staff["district_clerk"])
    RosterRow.objects.filter(upload=up).update(review="accepted")
    resp = login(staff["district_clerk"]).post(reverse("beneficiaries:roster-action", args=[up.pk]), {"action": "confirm"}, follow=True)
    assert "不能由上传人本人确认" in resp.content.decode()
    up.refresh_from_db()
    assert up.status == "town_review"


def test_the_errors_download_has_the_original_rows_and_one_message_column(upload_file, staff, login):
    rows = [(ids(1)[0], "好人", "低保", "双龙湖", "", ""), ("50011219600501100", "短号", "低保", "双龙湖", "2025/3/1", "139")]
    up = upload_file(roster_xlsx(rows)).upload
    # full numbers, as the department needs them to correct its file (asked for with a reason: issue 9)
    resp = login(staff["civil_officer"]).get(reverse("beneficiaries:roster-issues", args=[up.pk]),
                                             {"full": "1", "reason": "department"})
    ws = load_workbook(io.BytesIO(resp.content)).active
    table = list(ws.iter_rows(values_only=True))
    assert table[0] == ("原行号", "身份证号码", "姓名", "救助类别", "所属镇街", "认定日期", "联系电话", "问题说明")
    assert table[1][:7] == (3, "50011219600501100", "短号", "低保", "双龙湖", "2025/3/1", "139")  # as sent
    assert "身份证号" in table[1][7] and "18位" in table[1][7]
    assert len(table) == 2


def test_the_duty_board_counts_the_first_five_working_days_of_the_official_calendar(upload_file, staff, login):
    # October 2025: 1–8 October are the National Day holidays, 11 October (Saturday) a make-up working day
    board = login(staff["district_clerk"]).get(reverse("beneficiaries:duty-board"), {"month": "2025-10"}).context["board"]
    assert board["deadline"] == date(2025, 10, 14)  # 9, 10, 11 (make-up Saturday), 13, 14
    assert all(d["sent"] == "missing" for d in board["departments"])
    up = upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(1)]), month=date(2025, 9, 1)).upload
    RosterUpload.objects.filter(pk=up.pk).update(uploaded_at=datetime(2025, 10, 14, 17, 0, tzinfo=SH))
    board = login(staff["district_clerk"]).get(reverse("beneficiaries:duty-board"), {"month": "2025-10"}).context["board"]
    civil = next(d for d in board["departments"] if d["department"].code == "CIVIL")
    assert (civil["sent"], civil["confirmed"]) == ("on_time", "missing")
    RosterUpload.objects.filter(pk=up.pk).update(uploaded_at=datetime(2025, 10, 15, 9, 0, tzinfo=SH))
    board = login(staff["district_clerk"]).get(reverse("beneficiaries:duty-board"), {"month": "2025-10"}).context["board"]
    assert next(d for d in board["departments"] if d["department"].code == "CIVIL")["sent"] == "late"


def test_retroactive_changes_are_listed_by_town_and_closed_in_bulk(upload_file, confirm_roster, staff, login):
    from .conftest import HEADER

    (a,) = ids(1)
    confirm_roster(upload_file(roster_xlsx([(a, "甲", "低保", "回兴", "2025-01-01", "")])).upload)
    up = upload_file(roster_xlsx([(a, "甲", "低保", "回兴", "", "", "2025-02-10")], header=HEADER + ["退出日期"]),
                     month=date(2025, 6, 1), mode="delta").upload
    confirm_roster(up, confirm_endings=True)
    change = RetroactiveChange.objects.get()
    # 甲 has no decision in the period: the system closed the change (issue 16), the default list is empty
    assert change.status == "AUTO_CLOSED"
    url = reverse("beneficiaries:retroactive-list")
    assert list(login(staff["hx_clerk"]).get(url).context["page"]) == []
    assert [c.person.name for c in login(staff["hx_clerk"]).get(url, {"state": "all"}).context["page"]] == ["甲"]
    assert list(login(staff["slh_clerk"]).get(url, {"state": "all"}).context["page"]) == []
    # the district reaches the decisions settled in that period (claims acts on them)
    assert reverse("claims:retroactive-detail", args=[change.pk]) in login(staff["reviewer"]).get(url, {"state": "all"}).content.decode()
    # a change recorded before changes were measured waits until the district checks or closes it
    RetroactiveChange.objects.filter(pk=change.pk).update(status="OPEN", measured_at=None, reviewed_at=None)
    bulk = reverse("beneficiaries:retroactive-bulk")
    assert login(staff["hx_clerk"]).post(bulk, {"change": [change.pk], "action": "close", "note": "x"}).status_code == 403
    login(staff["reviewer"]).post(bulk, {"change": [change.pk], "action": "close", "note": "无结算"})
    change.refresh_from_db()
    assert (change.status, change.reviewed_by, change.review_note) == ("CLOSED", staff["reviewer"], "无结算")


def test_the_person_page_shows_the_best_identity_per_benefit_today_and_on_a_chosen_date(make_person, staff, login):
    person = make_person("多身份", categories=("DIBAO",), birth=date(1950, 1, 1), valid_from=date(2024, 1, 1))
    Identity.objects.create(person=person, category_id=_cat("ZHONGDU_CANJI"), valid_from=date(2025, 6, 1))
    client = login(staff["district_clerk"])
    resp = client.get(reverse("beneficiaries:person-detail", args=[person.pk]), {"on": "2025-03-01"})
    today_view, march = resp.context["benefit_views"]
    assert march["held"] == ["低保对象"]
    outpatient = next(r for r in march["rows"] if r["benefit"] == "普通疾病门诊医疗救助")
    assert outpatient["category"] == "低保对象"
    # from June the person also holds 重度残疾, which lifts a 低保 person into OUT_700 (POLICY.md §5)
    assert set(today_view["held"]) == {"低保对象", "城乡重度（1—2级）残疾人员"}
    assert outpatient["cap"] != next(r for r in today_view["rows"] if r["benefit"] == "普通疾病门诊医疗救助")["cap"]


def _cat(code):
    from beneficiaries.models import Category

    return Category.objects.get(code=code).pk


def test_a_department_officer_sees_only_their_departments_identities_and_no_benefit_view(make_person, staff, login):
    person = make_person("两部门", categories=("DIBAO", "BINGGU_YISHU"))
    resp = login(staff["civil_officer"]).get(reverse("beneficiaries:person-detail", args=[person.pk]))
    assert [i.category.code for i in resp.context["identities"]] == ["DIBAO"]
    assert resp.context["benefit_views"] == [] and "病故军人遗属" not in resp.content.decode()
    full = login(staff["hx_clerk"] if person.town.code == "HX" else staff["slh_clerk"]).get(
        reverse("beneficiaries:person-detail", args=[person.pk]))
    assert {i.category.code for i in full.context["identities"]} == {"DIBAO", "BINGGU_YISHU"}
    assert len(full.context["benefit_views"]) == 1


def test_the_progress_endpoint_reports_the_running_jobs_live_figures(staff, login, departments):
    from beneficiaries.models import RosterUpload
    from beneficiaries.services import _report

    up = RosterUpload.objects.create(department=departments["CIVIL"], month=date(2025, 3, 1), file_name="big.csv",
                                     sha256="0" * 64, uploaded_by=staff["civil_officer"])
    _report(up.pk, "校验比对", 40_000, 100_000)  # what a worker publishes while its transaction is open
    got = login(staff["civil_officer"]).get(reverse("beneficiaries:roster-progress", args=[up.pk])).json()
    assert (got["phase"], got["done"], got["total"], got["finished"]) == ("校验比对", 40_000, 100_000, False)
    page = login(staff["civil_officer"]).get(reverse("beneficiaries:roster-detail", args=[up.pk])).content.decode()
    assert 'id="progress"' in page and "40000 / 100000" in page


def test_a_txt_upload_is_refused_at_once_with_a_clear_message_not_left_checking(staff, login):
    """Issue 11: a .txt whose text reads as CSV was accepted and shown as 正在校验, then failed."""
    client = login(staff["civil_officer"])
    text = "身份证号码,姓名,救助类别,所属镇街\n" + f"{ids(1)[0]},某,低保,双龙湖\n"
    f = io.BytesIO(text.encode())
    f.name = "低保名单.txt"
    resp = client.post(reverse("beneficiaries:roster-list"), {
        "department": staff["civil_officer"].department_id, "month": "2025-03", "mode": "snapshot", "file": f,
    })
    page = resp.content.decode()
    assert resp.status_code == 200 and RosterUpload.objects.count() == 0
    assert "“低保名单.txt”是.txt文件，不能上传：请上传Excel（.xlsx）或CSV（.csv）文件" in page
