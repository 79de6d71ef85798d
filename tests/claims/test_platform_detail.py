"""The one-stop settlement audit reads the city platform's settlement detail as it comes (issue 18):
title rows, the platform's headers, one file for all institutions split by institution; employees'
large-amount insurance a layer before assistance; 倾斜救助 recorded and shown; an unknown
institution listed for the administrator and its lines decided once it is added."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from claims.models import Institution, PlatformSettlementFile, SettlementFile, SettlementLine
from claims.platform import platform_file_split, platform_file_upload
from claims.services import ClaimsError
from claims.settlement import SettlementFileError, settlement_file_import
from tests.claims.test_settlement import MARCH, csv_bytes, line, upload_and_import
from yfbz.files.samples import platform_row, platform_xlsx

pytestmark = pytest.mark.django_db
YB01 = "渝北区人民医院"
CQ01 = "重庆医科大学附属第一医院"


def import_platform(data, user, name="结算明细202503.xlsx"):
    pf, files = platform_file_upload(month=MARCH, file_name=name, data=data, user=user)
    for f in files:
        settlement_file_import(file_id=f.pk, user=user)
    return pf, files


def by_settlement(lines):
    return sorted((ln.institution.code, ln.settlement_no, ln.outcome, ln.dispute, ln.decided, ln.difference, ln.payable)
                  for ln in lines.select_related("institution"))


def test_the_platform_detail_gives_the_same_agreed_and_disputed_lines_as_the_institutions_own_file(
        institutions, people, make_person, staff):
    clerk = staff["district_clerk"]
    ended = make_person("周结束", categories=("DIBAO",))
    ended.identities.update(valid_to=date(2025, 2, 28))
    # today's per-institution file of YB01 (the march_file of test_settlement)
    own = [
        line("S001", people["slh"], "4000.00"),
        line("S002", people["hx"], "4000.00"),
        line("S003", ended, "4000.00"),
        line("S004", None, "100.00", idn="500112199001011234"),
        line("S001", people["slh"], "4000.00"),
        line("S005", people["slh"], "8000.00", in_policy="15000.00", basic="5000.00", day=20),
    ]
    with transaction.atomic():
        sid = transaction.savepoint()
        upload_and_import(institutions["YB01"], csv_bytes(own), clerk)
        expected = by_settlement(SettlementLine.objects.all())
        transaction.savepoint_rollback(sid)
    assert SettlementLine.objects.count() == 0
    # the same settlements in the platform's monthly detail of all institutions, with its title rows
    p = platform_row
    rows = [
        p("S001", people["slh"].id_number, "张双龙", YB01, "4000.00"),
        p("S002", people["hx"].id_number, "李回兴", YB01, "4000.00", town="回兴街道", identity="优抚对象"),
        p("S003", ended.id_number, "周结束", YB01, "4000.00"),
        p("S004", "500112199001011234", "某人", YB01, "100.00"),
        p("S001", people["slh"].id_number, "张双龙", YB01, "4000.00"),
        p("S005", people["slh"].id_number, "张双龙", YB01, "8000.00", in_policy="15000.00", settled=date(2025, 3, 20)),
    ]
    pf, files = import_platform(platform_xlsx(rows), clerk)
    assert [f.settlement_month.institution.code for f in files] == ["YB01"]
    assert by_settlement(SettlementLine.objects.all()) == expected
    # the lines keep the platform file's own row numbers (two title rows, the header on row 3)
    assert sorted(SettlementLine.objects.values_list("line_no", flat=True)) == [4, 5, 6, 7, 8, 9]
    assert pf.reading["header_row"] == 3 and "清算期" in [u["header"] for u in pf.reading["used"]]


def test_one_file_of_all_institutions_is_split_by_name_large_amount_insurance_is_a_layer_and_tilted_is_shown(
        institutions, people, staff):
    clerk = staff["district_clerk"]
    slh = people["slh"].id_number
    rows = [
        # 10000 in policy − 5000 basic − 1000 employees' large-amount = 4000 × 80% (level 2) = 3200
        platform_row("P1", slh, "张双龙", YB01, "3200.00", large="1000.00", tilted="300.00", insured="职工"),
        # at CQ01, its name written with spaces around it
        platform_row("P2", slh, "张双龙", " 重庆医科大学附属第一医院 ", "4000.00", settled=date(2025, 3, 18)),
    ]
    data = platform_xlsx(rows)
    pf, files = import_platform(data, clerk)
    assert sorted(f.settlement_month.institution.code for f in files) == ["CQ01", "YB01"]
    assert pf.unknown == []
    p1 = SettlementLine.objects.get(settlement_no="P1")
    assert (p1.outcome, p1.decided, p1.large_paid, p1.tilted_paid) == ("AGREED", Decimal("3200.00"), Decimal("1000.00"),
                                                                       Decimal("300.00"))
    assert p1.institution.code == "YB01" and p1.line_no == 4
    p2 = SettlementLine.objects.get(settlement_no="P2")
    assert p2.institution.code == "CQ01" and p2.line_no == 5 and p2.large_paid == Decimal("0.00")
    # the same file again: refused, nothing paid twice
    with pytest.raises(ClaimsError, match="已于.*导入"):
        platform_file_upload(month=MARCH, file_name="again.xlsx", data=data, user=clerk)


def test_the_month_page_shows_the_large_amount_layer_and_tilted_assistance(institutions, people, staff, login):
    rows = [platform_row("P1", people["slh"].id_number, "张双龙", YB01, "3200.00", large="1000.00", tilted="300.00")]
    _, files = import_platform(platform_xlsx(rows), staff["district_clerk"])
    page = login(staff["reviewer"]).get(f"/claims/settlements/{files[0].settlement_month_id}/").content.decode()
    assert "职工大额医疗保险 1,000.00" in page
    assert "另有倾斜救助（方案外）300.00" in page


def test_an_unknown_institution_is_listed_for_the_administrator_and_its_lines_wait_until_it_is_added(
        institutions, people, staff, login):
    clerk = staff["district_clerk"]
    slh = people["slh"].id_number
    rows = [
        platform_row("P1", slh, "张双龙", YB01, "4000.00"),
        platform_row("P2", slh, "张双龙", "渝北区仙桃街道社区卫生服务中心", "4000.00", settled=date(2025, 3, 18)),
        platform_row("P3", slh, "张双龙", "渝北区仙桃街道社区卫生服务中心", "100.00", settled=date(2025, 3, 19),
                     in_policy="1000.00", basic="500.00", kind="普通门诊"),
    ]
    pf, files = import_platform(platform_xlsx(rows), clerk)
    assert [f.settlement_month.institution.code for f in files] == ["YB01"]
    assert pf.unknown == [{"name": "渝北区仙桃街道社区卫生服务中心", "code": "", "rows": 2, "advanced": "4100.00",
                           "first_row": 5}]
    assert not SettlementLine.objects.filter(settlement_no__in=["P2", "P3"]).exists()
    page = login(staff["sysadmin"]).get("/claims/settlements/").content.decode()
    assert "渝北区仙桃街道社区卫生服务中心" in page and "/admin/claims/institution/add/?name=" in page
    # nothing to split while it is still unknown
    assert platform_file_split(platform_file_id=pf.pk, user=clerk) == []
    # the administrator adds it with its level (未定级 → level 1); the clerk splits again
    Institution.objects.create(code="XT01", name="渝北区仙桃街道社区卫生服务中心", level=0)
    again = platform_file_split(platform_file_id=pf.pk, user=clerk)
    assert [f.settlement_month.institution.code for f in again] == ["XT01"]
    settlement_file_import(file_id=again[0].pk, user=clerk)
    pf.refresh_from_db()
    assert pf.unknown == [] and len(pf.parts) == 2
    assert dict(SettlementLine.objects.filter(institution__code="XT01").values_list("settlement_no", "line_no")) == {
        "P2": 5, "P3": 6}
    assert platform_file_split(platform_file_id=pf.pk, user=clerk) == []  # each part once
    assert SettlementFile.objects.count() == 2


def test_a_bad_line_refuses_the_whole_platform_file_naming_the_platforms_row_and_header(institutions, people, staff):
    rows = [platform_row("P1", people["slh"].id_number, "张双龙", YB01, "4000.00"),
            platform_row("P2", people["slh"].id_number, "张双龙", CQ01, "4000.00", kind="体检")]
    rows[0][25] = "12,5x"
    with pytest.raises(SettlementFileError) as exc:
        platform_file_upload(month=MARCH, file_name="bad.xlsx", data=platform_xlsx(rows), user=staff["district_clerk"])
    assert "第4行“医疗救助”" in str(exc.value) and "第5行“医保就诊类别”" in str(exc.value)
    pf = PlatformSettlementFile.objects.get()  # the job's row: failed with the reason, nothing split
    assert pf.status == "FAILED" and "第4行“医疗救助”" in pf.error and pf.parts == []
    assert SettlementFile.objects.count() == 0


def test_only_a_district_clerk_imports_the_platform_detail(institutions, people, staff):
    rows = [platform_row("P1", people["slh"].id_number, "张双龙", YB01, "4000.00")]
    with pytest.raises(ClaimsError, match="区医保经办人员"):
        platform_file_upload(month=MARCH, file_name="a.xlsx", data=platform_xlsx(rows), user=staff["reviewer"])


def test_the_same_platform_detail_again_under_another_title_or_order_is_refused_naming_the_earlier_upload(
        institutions, people, staff):
    clerk = staff["district_clerk"]
    slh = people["slh"].id_number
    rows = [platform_row("P1", slh, "张双龙", YB01, "4000.00"),
            platform_row("P2", slh, "张双龙", CQ01, "4000.00", settled=date(2025, 3, 18))]
    first, _ = import_platform(platform_xlsx(rows), clerk, name="结算明细202503.xlsx")
    from yfbz.files.samples import PLATFORM_HEADER, titled_xlsx

    again = titled_xlsx(("重新导出的结算明细",), PLATFORM_HEADER, list(reversed(rows)))
    with pytest.raises(ClaimsError) as exc:
        platform_file_upload(month=MARCH, file_name="重新导出.xlsx", data=again, user=clerk)
    assert f"第{first.pk}号平台结算明细“结算明细202503.xlsx”（2025年03月）内容完全相同" in str(exc.value)
    assert PlatformSettlementFile.objects.exclude(status="FAILED").count() == 1 and SettlementFile.objects.count() == 2
    # a file with one more settlement is another file (its repeated lines are duplicates as always)
    more = platform_xlsx([*rows, platform_row("P3", slh, "张双龙", YB01, "100.00", settled=date(2025, 3, 20))])
    pf, _ = import_platform(more, clerk, name="补充.xlsx")
    assert pf.pk != first.pk
    assert SettlementLine.objects.filter(settlement_no="P1", duplicate=True).count() == 1


def test_the_clearing_period_says_the_month_a_line_belongs_to_and_lines_of_another_are_flagged_not_mixed(
        institutions, people, staff, login):
    clerk = staff["district_clerk"]
    slh = people["slh"].id_number
    rows = [
        platform_row("C1", slh, "张双龙", YB01, "4000.00"),
        # settled on 27 February, cleared in March: a line of March
        platform_row("C2", slh, "张双龙", YB01, "4000.00", settled=date(2025, 2, 27)),
        # cleared in February (sent again in March's export): flagged, never split into March
        platform_row("C3", slh, "张双龙", CQ01, "4000.00", settled=date(2025, 2, 20)),
        platform_row("C4", slh, "张双龙", YB01, "100.00", settled=date(2025, 2, 21), in_policy="1000.00", basic="500.00"),
    ]
    rows[1][0] = "202503"
    rows[2][0] = rows[3][0] = "2025-02"
    pf, files = import_platform(platform_xlsx(rows), clerk)
    assert [f.settlement_month.institution.code for f in files] == ["YB01"]
    assert sorted(SettlementLine.objects.values_list("settlement_no", flat=True)) == ["C1", "C2"]
    assert SettlementLine.objects.get(settlement_no="C2").settled_on == date(2025, 2, 27)
    assert pf.lines_total == 2
    assert pf.other_periods == [{"period": "2025-02", "rows": 2, "advanced": "4100.00", "first_row": 6,
                                 "row_numbers": [6, 7]}]
    page = login(clerk).get("/claims/settlements/").content.decode()
    assert "其他清算期的平台明细" in page and "2025-02" in page and "6、7" in page and "4,100.00" in page
    # a line settled after its 清算期 is an error naming row and header
    late = [platform_row("C9", slh, "张双龙", YB01, "4000.00", settled=date(2025, 4, 2))]
    late[0][0] = "202503"
    with pytest.raises(SettlementFileError, match="第4行“结算日期”：2025-04-02晚于清算期2025年03月"):
        platform_file_upload(month=MARCH, file_name="late.xlsx", data=platform_xlsx(late), user=clerk)
    # a 清算期 that cannot be read names row and header
    bad = [platform_row("C8", slh, "张双龙", YB01, "4000.00")]
    bad[0][0] = "三月"
    with pytest.raises(SettlementFileError, match="第4行“清算期”：清算期格式错误“三月”"):
        platform_file_upload(month=MARCH, file_name="bad.xlsx", data=platform_xlsx(bad), user=clerk)
    # a file holding only other months' lines says so
    only_feb = [rows[2]]
    with pytest.raises(SettlementFileError, match="没有清算期为2025年03月的结算（1行的清算期为2025年02月）"):
        platform_file_upload(month=MARCH, file_name="feb.xlsx", data=platform_xlsx(only_feb), user=clerk)


def test_an_institutions_own_file_with_a_line_of_another_clearing_period_is_refused_naming_the_row(
        institutions, people, staff):
    from claims.settlement import settlement_file_upload

    rows = [platform_row("D1", people["slh"].id_number, "张双龙", YB01, "4000.00", settled=date(2025, 2, 20))]
    rows[0][0] = "202502"
    f = settlement_file_upload(institution=institutions["YB01"], month=MARCH, file_name="own.xlsx",
                               data=platform_xlsx(rows), user=staff["district_clerk"])
    with pytest.raises(SettlementFileError, match="第4行“清算期”：清算期为2025年02月，不是本次导入的2025年03月"):
        settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
    assert not SettlementLine.objects.exists()


def test_the_platforms_identity_is_compared_with_ours_on_the_settlement_date_and_listed_per_town(
        institutions, people, make_person, staff, login):
    clerk = staff["district_clerk"]
    ended = make_person("周结束", categories=("DIBAO",))
    ended.identities.update(valid_to=date(2025, 3, 10))
    rows = [
        platform_row("I1", people["slh"].id_number, "张双龙", YB01, "4000.00"),  # 低保对象 = DIBAO: agrees
        platform_row("I2", people["slh"].id_number, "张双龙", YB01, "4000.00", identity="城市低保", settled=date(2025, 3, 16)),
        platform_row("I3", people["hx"].id_number, "李回兴", YB01, "4000.00", identity="特困人员", town="回兴街道"),
        platform_row("I4", ended.id_number, "周结束", YB01, "4000.00", identity="低保对象", settled=date(2025, 3, 20)),
        platform_row("I5", people["slh"].id_number, "张双龙", YB01, "4000.00", identity="城乡低保户（A类）",
                     settled=date(2025, 3, 17)),
    ]
    import_platform(platform_xlsx(rows), clerk)
    notes = dict(SettlementLine.objects.values_list("settlement_no", "identity_note"))
    assert notes["I1"] == "" and notes["I2"] == ""  # a roster wording of 低保 is 低保
    assert notes["I3"] == "平台救助身份为“特困人员”，我方结算日（2025-03-15）身份为“病故军人遗属”"
    assert notes["I4"] == "平台救助身份为“低保对象”，但按我方记录此人结算日（2025-03-20）没有救助身份"
    assert notes["I5"].startswith("平台救助身份“城乡低保户(A类)”对应不上我方的身份类别（可由系统管理员在“类别写法”中添加）")
    assert SettlementLine.objects.get(settlement_no="I3").platform_identity == "特困人员"
    # the district sees every town's; a town clerk their own town's only
    page = login(staff["reviewer"]).get("/claims/settlements/identities/", {"month": "2025-03"}).content.decode()
    assert "双龙湖街道" in page and "回兴街道" in page and "病故军人遗属" in page and "周结束" in page
    hx = login(staff["hx_clerk"]).get("/claims/settlements/identities/").content.decode()
    assert "李回兴" in hx and "周结束" not in hx and "张双龙" not in hx
    assert people["hx"].id_number not in hx  # masked


def test_the_page_stores_the_platform_detail_and_queues_the_job_splits_it_and_queues_the_parts(
        institutions, people, staff, login, django_capture_on_commit_callbacks):
    """The platform's detail is read and split by a job (yfbz.core.jobs), not in the request."""
    import io

    client = login(staff["district_clerk"])
    slh = people["slh"].id_number
    f = io.BytesIO(platform_xlsx([platform_row("Q1", slh, "张双龙", YB01, "4000.00"),
                                  platform_row("Q2", slh, "张双龙", CQ01, "4000.00", settled=date(2025, 3, 18))]))
    f.name = "结算明细202503.xlsx"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        resp = client.post("/claims/settlements/", {"platform": "1", "platform-month": "2025-03", "platform-file": f})
    assert resp.status_code == 302
    pf = PlatformSettlementFile.objects.get()
    assert pf.status == "QUEUED" and not SettlementFile.objects.exists()  # nothing read in the request
    page = client.get("/claims/settlements/").content.decode()
    assert "最近上传的平台结算明细" in page and "排队中" in page
    with django_capture_on_commit_callbacks(execute=True):
        for callback in queued:
            callback()  # the split, then the parts' imports it queues
    pf.refresh_from_db()
    assert pf.status == "DONE" and pf.lines_total == 2 and len(pf.parts) == 2
    assert sorted(SettlementFile.objects.values_list("status", flat=True)) == ["DONE", "DONE"]
    assert sorted(SettlementLine.objects.values_list("settlement_no", flat=True)) == ["Q1", "Q2"]


def test_a_platform_detail_that_fails_shows_the_reason_and_only_its_uploader_reruns_it(institutions, people, staff, login):
    rows = [platform_row("R1", people["slh"].id_number, "张双龙", YB01, "4000.00")]
    rows[0][25] = "12,5x"
    data = platform_xlsx(rows)
    with pytest.raises(SettlementFileError):
        platform_file_upload(month=MARCH, file_name="bad.xlsx", data=data, user=staff["district_clerk"])
    page = login(staff["district_clerk"]).get("/claims/settlements/").content.decode()
    assert "拆分失败" in page and "第4行“医疗救助”" in page and 'data-testid="job-rerun"' in page
    other = login(staff["reviewer"]).get("/claims/settlements/").content.decode()
    assert "拆分失败" in other and 'data-testid="job-rerun"' not in other
    # the same bytes again: refused, pointing at the failed file and its 重新运行
    with pytest.raises(ClaimsError, match="拆分失败.*重新运行"):
        platform_file_upload(month=MARCH, file_name="bad.xlsx", data=data, user=staff["district_clerk"])


def test_splitting_again_from_the_page_queues_the_job_and_never_reads_the_file_in_the_request(
        institutions, people, staff, login, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    clerk = staff["district_clerk"]
    slh = people["slh"].id_number
    rows = [platform_row("P1", slh, "张双龙", YB01, "4000.00"),
            platform_row("P2", slh, "张双龙", "渝北区仙桃街道社区卫生服务中心", "4000.00", settled=date(2025, 3, 18))]
    pf, _ = import_platform(platform_xlsx(rows), clerk)
    Institution.objects.create(code="XT01", name="渝北区仙桃街道社区卫生服务中心", level=0)
    client = login(clerk)
    with django_capture_on_commit_callbacks() as callbacks, CaptureQueriesContext(connection) as ctx:
        resp = client.post(f"/claims/settlements/platform/{pf.pk}/split/", follow=True)
    assert "已排队重新拆分" in resp.content.decode()
    # the request stored nothing but the move: the file's bytes were not selected, no part was made
    reads = [q["sql"] for q in ctx.captured_queries if "claims_platformsettlementfile" in q["sql"]
             and q["sql"].lstrip().upper().startswith("SELECT") and '"data"' in q["sql"]]
    assert reads == []
    pf.refresh_from_db()
    assert pf.status == "QUEUED" and SettlementFile.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        for cb in callbacks:  # the worker's part (tasks eager here): split, then the new part imported
            cb()
    pf.refresh_from_db()
    assert pf.status == "DONE" and pf.unknown == [] and len(pf.parts) == 2
    assert SettlementLine.objects.filter(institution__code="XT01", settlement_no="P2").exists()
    # a second click while it is done again makes no second part
    client.post(f"/claims/settlements/platform/{pf.pk}/split/")
    assert SettlementFile.objects.count() == 2
