"""The dated area tree (docs/areas.md): today's towns carried over, towns moving between districts
on a date, arriving towns entered or imported from a file, a person's town over time."""

import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import Workbook

from beneficiaries.models import PersonTown, Town
from beneficiaries.towns import person_town_change, town_on
from yfbz.areas import services
from yfbz.areas.models import Area, Bureau, TownDistrict
from yfbz.areas.tree import area_tree

pytestmark = pytest.mark.django_db

NORTH = ("TJ", "DW", "XL", "CZ", "DS")  # 统景 大湾 兴隆 茨竹 大盛: to 北碚区
MOVE = date(2026, 1, 25)


def area(code):
    return Area.objects.get(code=code)


def test_todays_towns_are_carried_over_under_todays_district_from_always(towns):
    tree = area_tree()
    yb = area("YB")
    assert tree.towns_under(yb.pk, date(1990, 1, 1)) == {t.pk for t in towns.values()} == tree.jurisdiction(date(2026, 6, 1))
    assert len(towns) == 30
    assert set(area("YB_TOWNS").towns.values_list("code", flat=True)) == set(towns)
    bureau = Bureau.objects.get()
    assert (bureau.name, bureau.doc_prefix, bureau.district.code) == ("重庆市渝北区医疗保障局", "渝北医保救助", "YB")
    assert area("YB").parent == area("CQ")


def test_five_towns_leaving_on_a_date_keep_their_district_before_it(towns):
    services.move_towns([towns[c] for c in NORTH], "BB", MOVE, source="区划调整")
    tree = area_tree()
    yb, bb = area("YB").pk, area("BB").pk
    tj = towns["TJ"].pk
    assert tree.district_of(tj, date(2026, 1, 24)) == yb
    assert tree.district_of(tj, MOVE) == bb
    assert tree.district_of(towns["SLH"].pk, MOVE) == yb
    assert len(tree.jurisdiction(date(2026, 1, 24))) == 30
    assert len(tree.jurisdiction(MOVE)) == 25
    assert tj not in tree.jurisdiction(MOVE)
    closed = TownDistrict.objects.get(town=towns["TJ"], district__code="YB")
    assert closed.valid_to == date(2026, 1, 24)


def test_a_move_before_a_later_one_is_refused_and_moving_twice_on_one_day_keeps_one_span(towns):
    services.move_town(towns["TJ"], "BB", MOVE)
    with pytest.raises(ValidationError, match="统景镇已有2026-01-25起隶属北碚区的记录"):
        services.move_town(towns["TJ"], "LJ", date(2026, 1, 1))
    services.move_town(towns["TJ"], "LJ", MOVE)
    assert list(TownDistrict.objects.filter(town=towns["TJ"]).values_list("district__code", flat=True)) == ["YB", "LJ"]
    with pytest.raises(ValidationError, match="不是区"):
        services.move_town(towns["TJ"], "CQ", date(2026, 3, 1))


def test_an_arriving_town_keeps_its_former_district_for_its_history(towns):
    gyq = services.add_town("GYQ", "观音桥街道", "街道", "YB", MOVE, previous_district="JB", source="划入")
    tree = area_tree()
    assert tree.district_of(gyq.pk, date(2025, 6, 1)) == area("JB").pk
    assert tree.district_of(gyq.pk, MOVE) == area("YB").pk
    assert gyq.pk in tree.jurisdiction(MOVE) and gyq.pk not in tree.jurisdiction(date(2025, 6, 1))


def _xlsx(rows):
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_towns_imported_from_xlsx_and_csv(towns):
    services.import_towns(
        _xlsx([["代码", "名称", "类型", "所属区", "起始日期", "原属区"],
               ["GYQ", "观音桥街道", "街道", "渝北区", date(2026, 1, 25), "江北区"],
               ["STJ", "水土街道", "街道", "YB", "2026/01/25", "北碚区"]]),
        "towns.xlsx",
    )
    csv_data = "代码,名称,类型,所属区,起始日期\nWJZ,五里店街道,街道,YB,2026-02-01\n".encode("gb18030")
    services.import_towns(csv_data, "towns.csv")
    tree = area_tree()
    assert tree.district_of(Town.objects.get(code="STJ").pk, date(2025, 1, 1)) == area("BB").pk
    assert tree.district_of(Town.objects.get(code="WJZ").pk, date(2026, 2, 1)) == area("YB").pk


def test_a_bad_row_imports_nothing_and_names_the_row_and_field(towns):
    data = _xlsx([["代码", "名称", "类型", "所属区", "起始日期"],
                  ["GYQ", "观音桥街道", "街道", "渝北区", "2026-01-25"],
                  ["STJ", "水土街道", "村", "火星区", "明天"]])
    with pytest.raises(ValidationError) as exc:
        services.import_towns(data, "towns.xlsx")
    text = "；".join(exc.value.messages)
    assert "第3行 类型" in text and "第3行 所属区：未知的区「火星区」" in text and "第3行 起始日期" in text
    assert not Town.objects.filter(code="GYQ").exists()
    with pytest.raises(ValidationError, match="找不到表头.*起始日期"):  # the one reader's message (yfbz.files)
        services.import_towns("代码,名称,类型,所属区\n".encode(), "t.csv")


# --- a person's town over time ---------------------------------------------------------------------
def test_a_person_who_never_moved_lives_in_their_town_on_every_date(make_person, towns):
    p = make_person("甲", town="SLH")
    assert town_on(p, date(1999, 1, 1)) == town_on(p, date(2030, 1, 1)) == towns["SLH"].pk
    assert not PersonTown.objects.filter(person=p).exists()


def test_a_correction_moves_a_person_from_a_date_and_keeps_the_earlier_town(make_person, towns):
    p = make_person("乙", town="SLH")
    assert person_town_change(p, towns["TJ"], date(2025, 7, 1), source_ref="更正2025-01")
    p.refresh_from_db()
    assert p.town == towns["TJ"]
    assert town_on(p, date(2025, 6, 30)) == towns["SLH"].pk
    assert town_on(p, date(2025, 7, 1)) == towns["TJ"].pk
    spans = list(PersonTown.objects.filter(person=p).values_list("town__code", "valid_from", "valid_to", "source"))
    assert spans == [("SLH", date(1900, 1, 1), date(2025, 6, 30), "CORRECTION"), ("TJ", date(2025, 7, 1), None, "CORRECTION")]
    assert not person_town_change(p, towns["TJ"], date(2025, 8, 1))
    with pytest.raises(ValidationError, match="2025-07-01起已登记在其他镇街"):
        person_town_change(p, towns["HX"], date(2025, 3, 1))


def test_a_roster_giving_a_new_town_moves_the_person_from_the_rosters_month(upload_file, confirm_roster, towns):
    from tests.beneficiaries.conftest import ids, roster_xlsx

    idn = ids(1)[0]
    first = upload_file(roster_xlsx([(idn, "丙", "低保对象", "双龙湖街道", "2025-01-05", "")])).upload
    confirm_roster(first)
    second = upload_file(roster_xlsx([(idn, "丙", "低保对象", "回兴街道", "2025-01-05", "")]), month=date(2025, 4, 1)).upload
    confirm_roster(second)
    from beneficiaries.models import Person

    p = Person.objects.get(id_number=idn)
    assert p.town == towns["HX"]
    assert town_on(p, date(2025, 3, 31)) == towns["SLH"].pk
    assert town_on(p, date(2025, 4, 1)) == towns["HX"].pk
    assert PersonTown.objects.filter(person=p, source="ROSTER", source_ref=f"名单{second.pk}").count() == 2


# --- the pages -------------------------------------------------------------------------------------
def test_the_administrator_moves_towns_on_the_areas_page_and_everyone_reads_it(staff, towns, login):
    client = login(staff["sysadmin"])
    resp = client.post(reverse("areas:move"), {
        "towns": [towns[c].pk for c in NORTH], "district": area("BB").pk, "on": "2026-01-25", "source": "区划调整通知",
    }, follow=True)
    assert "已登记：" in resp.content.decode() and "自2026-01-25起隶属北碚区" in resp.content.decode()
    page = login(staff["district_clerk"]).get(reverse("areas:tree"), {"on": "2026-02-01"}).content.decode()
    assert "统景镇 <span class=\"badge warn\">已划出</span>" in page
    assert "move-form" not in page
    assert login(staff["district_clerk"]).post(reverse("areas:move"), {}).status_code == 403


def test_a_district_clerk_records_a_persons_move_on_the_person_page(staff, make_person, towns, login):
    p = make_person("丁", town="SLH")
    client = login(staff["district_clerk"])
    resp = client.post(reverse("beneficiaries:person-town", args=[p.pk]),
                       {"town": towns["HX"].pk, "on": "2025-09-01", "source_ref": "迁移证明001"}, follow=True)
    page = resp.content.decode()
    assert "自2025-09-01起在回兴街道" in page
    assert "迁移证明001" in page and "2025-08-31" in page
    assert login(staff["slh_clerk"]).post(reverse("beneficiaries:person-town", args=[p.pk]), {}).status_code == 403
