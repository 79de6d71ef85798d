"""A town clerk sees no other town's totals on roster pages or progress.json (issue 9, finding 10)."""

import pytest
from django.urls import reverse

from beneficiaries.models import RosterUpload

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster(upload_file, staff):
    from beneficiaries.services import roster_submit
    from tests.beneficiaries.conftest import ids, roster_xlsx

    a, b, c, d, e = ids(5)
    rows = [(a, "双一", "低保", "双龙湖", "", ""), (b, "双二", "低保", "双龙湖街道", "", ""), (c, "回一", "低保", "回兴", "", ""),
            (d, "回二", "低保", "回兴", "", ""), (e, "回三", "低保", "回兴", "", "")]
    up = upload_file(roster_xlsx(rows)).upload
    roster_submit(upload=up, user=staff["civil_officer"])
    up.refresh_from_db()
    return up


def test_the_town_clerk_sees_only_their_towns_figures(roster, staff, login):
    assert roster.rows_total == 5
    page = login(staff["slh_clerk"]).get(reverse("beneficiaries:roster-detail", args=[roster.pk]))
    assert page.context["summary"]["rows"] == 2 and page.context["summary"]["new"] == 2
    assert "以上为本镇街的行数" in page.content.decode()
    listing = login(staff["slh_clerk"]).get(reverse("beneficiaries:roster-list"))
    (u,) = [u for u in listing.context["page"] if u.pk == roster.pk]
    assert u.figures["rows"] == 2
    # the district still sees the whole file
    page = login(staff["district_clerk"]).get(reverse("beneficiaries:roster-detail", args=[roster.pk]))
    assert page.context["summary"]["rows"] == 5


def test_progress_json_gives_a_town_clerk_a_percentage_not_the_files_row_count(roster, staff, login):
    RosterUpload.objects.filter(pk=roster.pk).update(progress_done=3, progress_total=5)
    got = login(staff["slh_clerk"]).get(reverse("beneficiaries:roster-progress", args=[roster.pk])).json()
    assert (got["done"], got["total"]) == (60, 100)
    from beneficiaries.services import roster_progress

    got = login(staff["district_clerk"]).get(reverse("beneficiaries:roster-progress", args=[roster.pk])).json()
    assert got["total"] == roster_progress(roster)["total"]  # the district sees the file's own figures
