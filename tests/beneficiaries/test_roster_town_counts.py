"""A roster's rows counted per town (issue 14): the roster page's per-town figures and a town clerk's own
figures come from ``RosterTownCount``, written by the check and kept by every review move in the same
transaction. After each move the page shows what a fresh count of the rows says (counted here in
Python, row by row, not with the code under test)."""

import importlib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from beneficiaries.models import RosterRow, RosterTownCount, RosterUpload

from .conftest import ids, roster_xlsx

pytestmark = pytest.mark.django_db

NO_TOWN = "（无镇街）"


def fresh(upload, town=None) -> dict:
    """Every figure per town name, counted from the rows one by one."""
    out = {}
    rows = RosterRow.objects.filter(upload=upload).select_related("town")
    if town is not None:
        rows = rows.filter(town=town)
    for r in rows:
        f = out.setdefault(r.town.name if r.town else NO_TOWN, dict.fromkeys(
            ("listed", "invalid", "new", "continuing", "changed", "ended", "pending", "accepted", "sent_back", "overdue"), 0))
        f["listed"] += r.row_number is not None
        f[r.outcome] += 1
        if r.outcome != "invalid":
            f[r.review] += 1
    return out


def kept(upload) -> dict:
    fields = ("listed", "invalid", "new", "continuing", "changed", "ended", "pending", "accepted", "sent_back", "overdue")
    return {c.town.name if c.town else NO_TOWN: {f: getattr(c, f) for f in fields}
            for c in RosterTownCount.objects.filter(upload=upload).select_related("town")}


def page(client, upload):
    resp = client.get(reverse("beneficiaries:roster-detail", args=[upload.pk]))
    assert resp.status_code == 200
    return resp.content.decode()


def by_town_table(html) -> dict:
    """What the page's 各镇街审核 table says: town → (行数, 待审核, 退回, 逾期按报送接受)."""
    m = re.search(r'data-testid="by-town">(.*?)</table>', html, re.S)
    if not m:
        return {}
    out = {}
    for row in re.findall(r"<tr><td>(.*?)</tr>", m.group(1), re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", "<td>" + row)
        out[re.sub(r"\s*<span.*", "", cells[0])] = tuple(int(c) for c in cells[1:])
    return out


def expected_table(figures: dict) -> dict:
    return {t: (f["new"] + f["continuing"] + f["changed"] + f["ended"], f["pending"], f["sent_back"], f["overdue"])
            for t, f in figures.items() if f["new"] + f["continuing"] + f["changed"] + f["ended"]}


def summary_cells(html) -> tuple:
    m = re.search(r'data-testid="roster-summary">.*?<tbody><tr>(.*?)</tr>', html, re.S)
    return tuple(re.findall(r'<td class="num">(.*?)</td>', m.group(1)))


@pytest.fixture
def roster(upload_file, make_person, staff):
    """A CIVIL snapshot with rows in 双龙湖 and 回兴, an invalid row, and two endings: one of 双龙湖 and one
    of a person with no town (no row number, no town)."""
    make_person("张双龙", town="SLH")
    make_person("王无镇", town=None)
    a, b, c, d = ids(4, start=500)
    rows = [(a, "双一", "低保", "双龙湖", "", ""), (b, "双二", "低保", "双龙湖街道", "", ""),
            (c, "回一", "低保", "回兴", "", ""), (d, "回二", "低保", "回兴", "", ""), ("123", "错号", "低保", "回兴", "", "")]
    up = upload_file(roster_xlsx(rows)).upload
    assert up.status == "validated" and up.count_ended == 2 and up.rows_invalid == 1
    return up


def assert_page_is_the_rows(client, upload):
    figures = fresh(upload)
    assert kept(upload) == figures
    assert by_town_table(page(client, upload)) == expected_table(figures)


def test_the_pages_town_figures_equal_a_fresh_count_after_every_review_move(roster, staff, login, run_jobs):
    from beneficiaries.services import roster_submit

    up = roster
    district = login(staff["district_clerk"])
    assert set(kept(up)) == {"双龙湖街道", "回兴街道", NO_TOWN}
    assert_page_is_the_rows(district, up)
    roster_submit(upload=up, user=staff["civil_officer"])
    review = reverse("beneficiaries:roster-review", args=[up.pk])
    row = {r.name: r.pk for r in RosterRow.objects.filter(upload=up)}

    slh = login(staff["slh_clerk"])
    slh.post(review, {"decision": "accept"})  # every pending row of 双龙湖
    hx = login(staff["hx_clerk"])
    hx.post(review, {"decision": "send_back", "row": row["回一"], "reason": "已迁出本镇街"})
    hx.post(review, {"decision": "send_back", "row": row["回二"], "reason": "查无此人"})
    hx.post(review, {"decision": "accept", "row": row["回一"]})  # the town changes its mind: sent back → accepted
    hx.post(review, {"decision": "send_back", "row": row["错号"], "reason": "无效行"})  # invalid rows are not reviewed
    reviews = dict(RosterRow.objects.filter(upload=up, row_number__isnull=False).values_list("name", "review"))
    assert reviews == {"双一": "accepted", "双二": "accepted", "回一": "accepted", "回二": "sent_back", "错号": "pending"}
    district = login(staff["district_clerk"])
    assert_page_is_the_rows(district, up)
    figures = fresh(up)
    assert figures["回兴街道"]["sent_back"] == 1 and figures["双龙湖街道"]["pending"] == 0 and figures[NO_TOWN]["pending"] == 1

    # 重新校验: the check runs again, every row is pending again
    with run_jobs():
        district.post(reverse("beneficiaries:roster-action", args=[up.pk]), {"action": "revalidate"})
    up.refresh_from_db()
    assert up.status == "validated"
    assert_page_is_the_rows(district, up)
    assert sum(f["accepted"] + f["sent_back"] for f in kept(up).values()) == 0

    # sent to the towns again; 回兴 reviews one row, then the deadline passes: the district accepts the rest
    roster_submit(upload=up, user=staff["civil_officer"])
    row = {r.name: r.pk for r in RosterRow.objects.filter(upload=up)}
    login(staff["hx_clerk"]).post(review, {"decision": "send_back", "row": row["回二"], "reason": "查无此人"})
    sent = timezone.now() - timedelta(days=21)
    RosterUpload.objects.filter(pk=up.pk).update(submitted_at=sent, uploaded_at=sent)
    district = login(staff["district_clerk"])
    with run_jobs():
        district.post(reverse("beneficiaries:roster-action", args=[up.pk]),
                      {"action": "confirm", "confirm_endings": "1", "overdue_reason": "已电话催办"})
    up.refresh_from_db()
    assert up.status == "confirmed", up.message
    assert_page_is_the_rows(district, up)
    figures = fresh(up)
    assert figures["双龙湖街道"]["overdue"] == 3 and figures["回兴街道"]["overdue"] == 1 and figures["回兴街道"]["sent_back"] == 1


def test_a_town_clerk_sees_their_towns_figures_only_and_the_same_as_a_fresh_count(roster, staff, login, towns):
    from beneficiaries.services import roster_submit

    roster_submit(upload=roster, user=staff["civil_officer"])
    client = login(staff["slh_clerk"])
    html = page(client, roster)
    mine = fresh(roster, town=towns["SLH"])
    assert by_town_table(html) == expected_table(mine)
    f = mine["双龙湖街道"]
    assert summary_cells(html)[:7] == tuple(str(n) for n in (
        f["listed"], f["listed"] - f["invalid"], f["invalid"], f["new"], f["continuing"], f["changed"], f["ended"]))
    assert 'data-testid="my-pending">3<' in html
    client.post(reverse("beneficiaries:roster-review", args=[roster.pk]), {"decision": "accept"})
    assert 'data-testid="my-pending">0<' in page(client, roster)


def test_an_upload_without_counts_shows_the_same_figures_from_its_rows(roster, staff, login):
    """Uploads stored before the counts (migration 0026 counts them; should one be missed, the page counts
    its rows and shows the same)."""
    from beneficiaries.services import roster_submit

    roster_submit(upload=roster, user=staff["civil_officer"])
    login(staff["hx_clerk"]).post(reverse("beneficiaries:roster-review", args=[roster.pk]), {"decision": "accept"})
    pages = {}
    for who in ("district_clerk", "slh_clerk", "civil_officer"):
        client = login(staff[who])
        pages[who] = (by_town_table(page(client, roster)), summary_cells(page(client, roster)))
    RosterTownCount.objects.filter(upload=roster).delete()
    for who in ("district_clerk", "slh_clerk", "civil_officer"):
        client = login(staff[who])
        assert (by_town_table(page(client, roster)), summary_cells(page(client, roster))) == pages[who], who
    assert pages["district_clerk"][0] == expected_table(fresh(roster))


def test_the_migration_counts_the_rows_of_uploads_stored_before(roster, staff):
    from beneficiaries.services import roster_rows_review, roster_submit

    roster_submit(upload=roster, user=staff["civil_officer"])
    roster_rows_review(upload=roster, user=staff["slh_clerk"], accept=False, reason="核实中")
    expected = kept(roster)
    RosterTownCount.objects.all().delete()
    migration = importlib.import_module("beneficiaries.migrations.0026_roster_town_counts")
    migration.count_stored_rows(apps, SimpleNamespace(connection=connection))
    assert kept(roster) == expected == fresh(roster)
