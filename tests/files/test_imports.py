"""Each reader on a file with title rows and the real headers: the spreadsheet's row numbers in
every message, the columns used and ignored said."""

import pytest

from funding.models import Enrolment
from funding.services import FundingError
from funding.services.imports import enrolment_import

from .test_reader import xlsx

pytestmark = pytest.mark.django_db

TITLES = ("城乡居民基本医疗保险参保登记明细", "导出单位：渝北区医保中心　导出日期：2025-01-20")


def test_enrolment_with_title_rows_and_the_insurance_systems_headers(make_person, staff):
    a = make_person("参保甲")
    b = make_person("参保乙", town="HX")
    header = ["序号", "姓名", "身份证件号码", "参保档次", "是否自行缴费", "经办机构"]
    data = xlsx(header, [1, a.name, a.id_number, "居民二档", "否", "渝北"], [2, b.name, b.id_number, "一档", "是", "渝北"],
                title_rows=TITLES)
    done = enrolment_import(year=2025, data=data, user=staff["district_clerk"])
    assert done.count == 2
    assert done.reading["header_row"] == 3
    assert done.reading["ignored"] == ["序号", "经办机构"]
    got = dict(Enrolment.objects.filter(year=2025).values_list("person__name", "self_paid"))
    assert got == {"参保甲": False, "参保乙": True}


def test_enrolment_errors_name_the_spreadsheets_own_rows(make_person, staff):
    a = make_person("参保甲")
    header = ["姓名", "公民身份号码", "参保类型"]
    data = xlsx(header, [a.name, a.id_number, "城乡居民医保二档"], [a.name, "500112196005011003", "一档"], [a.name, a.id_number, "三档"],
                title_rows=TITLES)
    with pytest.raises(FundingError) as caught:
        enrolment_import(year=2025, data=data, user=staff["district_clerk"])
    msg = str(caught.value)
    assert "第5行 公民身份号码「500112196005011003」" in msg
    assert "第6行 参保类型「三档」" in msg
    assert not Enrolment.objects.exists()


def test_an_enrolment_file_without_its_header_says_what_was_expected(staff):
    with pytest.raises(FundingError) as caught:
        enrolment_import(year=2025, data=xlsx(["编号", "名字"], [1, "张三"], title_rows=TITLES), user=staff["district_clerk"])
    msg = str(caught.value)
    assert "找不到表头" in msg and "公民身份号码（也可写作" in msg and "参保类型" in msg and "第1行：城乡居民基本医疗保险参保登记明细" in msg


def test_a_roster_with_title_rows_is_checked_with_the_spreadsheets_row_numbers_and_stores_what_it_read(towns, staff):
    from datetime import date

    from beneficiaries.models import RosterUpload
    from beneficiaries.services import roster_check, roster_upload_create
    from tests.conftest import valid_id

    good, bad = valid_id(date(1960, 5, 1), 11), valid_id(date(1961, 5, 1), 12)[:-1] + "0"
    data = xlsx(["序号", "姓名", "身份证件号码", "救助类别", "街道乡镇", "村（社区）", "填报人"],
                [1, "名单甲", good, "城市低保", "双龙湖街道", "一村", "王"], [2, "名单乙", bad, "低保", "回兴", "二村", "王"],
                title_rows=("渝北区2025年3月城乡低保对象名单", "填报单位：区民政局"))
    from beneficiaries.models import Department

    result = roster_upload_create(user=staff["district_clerk"], department=Department.objects.get(code="CIVIL"),
                                  month=date(2025, 3, 1), mode="snapshot", file_name="低保名单.xlsx", data=data)
    roster_check(upload_id=result.upload.pk)
    upload = RosterUpload.objects.get(pk=result.upload.pk)
    assert upload.status == "validated", upload.message
    assert (upload.rows_valid, upload.rows_invalid) == (1, 1)
    rows = {r.row_number: r for r in upload.rows.all()}
    assert set(rows) == {4, 5}
    assert rows[5].errors[0]["row"] == 5 and rows[5].errors[0]["field"] == "身份证号"
    assert upload.reading["header_row"] == 3
    assert upload.reading["ignored"] == ["序号", "填报人"]
    assert {"header": "街道乡镇", "column": "所属镇街"} in upload.reading["used"]
