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


def test_a_bank_return_with_title_rows_and_the_banks_own_headers(make_person, staff, fund):
    from datetime import date
    from decimal import Decimal

    from funding import services
    from funding.services.requests import bank_return_parse

    for name in ("回单甲", "回单乙"):
        p = make_person(name)
        rep = services.selfpaid_report(person=p, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400"), bank_name="农行",
                                       bank_account=f"6228{p.pk:08d}", account_holder=name, user=staff["slh_clerk"], today=date(2025, 3, 2))
        services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(2025, 3, 3))
    fund("SPECIAL", "5000.00")
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 20), source_document="x", entered_by=staff["finance"],
                                          approved_by=staff["reviewer"])
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=staff["finance"])
    ok, bad = batch.payments.order_by("pk")
    header = ["序号", "明细编号", "收款人", "交易状态", "退票原因"]
    data = xlsx(header, [1, ok.pk, "回单甲", "交易成功", ""], [2, bad.pk, "回单乙", "交易失败", "账户已销户"],
                title_rows=("代发业务处理结果回单", "付款单位：渝北区医疗保障局"))
    assert bank_return_parse(batch_id=batch.pk, data=data) == {bad.pk: "账户已销户"}
    with pytest.raises(FundingError, match="第5行 交易状态「处理中」无法识别"):
        bank_return_parse(batch_id=batch.pk, data=xlsx(header, [1, ok.pk, "甲", "成功", ""], [2, bad.pk, "乙", "处理中", ""],
                                                       title_rows=("代发业务处理结果回单", "付款单位：渝北区医疗保障局")))


def test_institutions_from_the_insurance_bureaus_list_with_a_title_row_through_the_admin(staff, login):
    from django.urls import reverse

    from claims.models import Institution
    from tests.security.test_hostile_inputs import _named

    Institution.objects.create(code="H50011200001", name="旧名称医院", level=1)
    header = ["序号", "医疗机构编码", "医疗机构名称", "医疗机构等级", "是否联网", "地址"]
    data = xlsx(header, [1, "H50011200001", "重庆市渝北区人民医院", "三级甲等", "是", "渝北区"],
                [2, "H50011200077", "渝北区双龙湖街道社区卫生服务中心", "一级", "否", "双龙湖"],
                title_rows=("渝北区定点医药机构名单（2025年3月）",))
    client = login(staff["sysadmin"])
    resp = client.post(reverse("admin:claims_institution_import_file"), {"file": _named(data, "机构.xlsx")}, follow=True)
    text = resp.content.decode()
    assert "新增1个，更新1个" in text and "表头在第2行" in text and "未使用的列：序号、地址" in text
    people_hospital = Institution.objects.get(code="H50011200001")
    assert (people_hospital.name, people_hospital.level) == ("重庆市渝北区人民医院", 3)
    assert Institution.objects.get(code="H50011200077").networked is False

    bad = xlsx(header, [1, "H1", "甲医院", "特级", "是", ""], [2, "", "乙医院", "一级", "是", ""], title_rows=("名单",))
    resp = client.post(reverse("admin:claims_institution_import_file"), {"file": _named(bad, "机构.xlsx")}, follow=True)
    text = resp.content.decode()
    assert "第3行“医疗机构等级”：无法识别的等级“特级”" in text and "第4行“医疗机构编码”：不能为空" in text
    assert not Institution.objects.filter(code="H1").exists()
    assert login(staff["district_clerk"]).get(reverse("admin:claims_institution_import_file")).status_code in (302, 403)


def test_the_towns_file_of_the_area_tree_goes_through_the_one_reader_with_the_spreadsheets_row_numbers(towns):
    """The area tree's towns file (区划调整) had its own reader: header on row 1 only, blank rows dropped
    before counting (so a message named the wrong row), no hostile-file check. Now it is the one reader's."""
    from django.core.exceptions import ValidationError

    from beneficiaries.models import Town
    from yfbz.areas import services

    header = ["序号", "镇街代码", "镇街名称", "类型", "划入区", "划入日期", "备注"]
    good = xlsx(header, [1, "GYQ", "观音桥街道", "街道", "渝北区", "2026年1月25日", "划入"],
                title_rows=("区划调整镇街名单", "渝北区民政局　2026年1月"))
    result = services.import_towns(good, "区划调整.xlsx", source="划入")
    assert [t.code for t in result.towns] == ["GYQ"] and Town.objects.filter(code="GYQ").exists()
    assert result.reading["header_row"] == 3 and result.reading["ignored"] == ["序号", "备注"]
    bad = xlsx(header, [1, "STJ", "水土街道", "街道", "渝北区", "2026-01-25", ""], [None] * 7,
               [3, "WLD", "五里店街道", "村", "渝北区", "明天", ""], title_rows=("区划调整镇街名单",))
    with pytest.raises(ValidationError) as exc:
        services.import_towns(bad, "区划调整.xlsx")
    text = "；".join(exc.value.messages)
    assert "第5行 类型：应为“街道”或“镇”" in text and "第5行 起始日期" in text  # the blank row 4 counted
    assert not Town.objects.filter(code="STJ").exists()


def test_category_wordings_from_a_departments_file_with_a_title_row_through_the_admin_and_no_english_import(staff, login):
    """The admin imported 类别写法 (and 镇街) through django-import-export with English headers (code,
    department, wording) and header on row 1; now 从文件导入 is the one reader's and the other is off."""
    from django.urls import reverse

    from beneficiaries.models import CategoryAlias
    from tests.security.test_hostile_inputs import _named

    header = ["序号", "名单中的写法", "身份类别", "认定部门", "备注"]
    data = xlsx(header, [1, "城乡低保户（A类）", "低保对象", "民政", ""], [2, "特困供养", "TEKUN", "CIVIL", ""],
                [3, "城市低保", "TEKUN", "CIVIL", "改为特困（试）"], title_rows=("民政局名单类别写法",))
    client = login(staff["sysadmin"])
    before = CategoryAlias.objects.get(wording="城市低保", department__code="CIVIL").category.code
    resp = client.post(reverse("admin:beneficiaries_categoryalias_import_file"), {"file": _named(data, "写法.xlsx")}, follow=True)
    text = resp.content.decode()
    assert before == "DIBAO" and "新增2个，更新1个" in text and "表头在第2行" in text and "未使用的列：序号、备注" in text
    assert CategoryAlias.objects.get(wording="城乡低保户(A类)").category.code == "DIBAO"
    assert CategoryAlias.objects.get(wording="城市低保", department__code="CIVIL").category.code == "TEKUN"
    bad = xlsx(header, [1, "某写法", "不存在的类别", "民政", ""], [2, "", "TEKUN", "CIVIL", ""], title_rows=("名单",))
    resp = client.post(reverse("admin:beneficiaries_categoryalias_import_file"), {"file": _named(bad, "写法.xlsx")}, follow=True)
    text = resp.content.decode()
    assert "第3行“身份类别”：没有身份类别“不存在的类别”" in text and "第4行“名单中的写法”：不能为空" in text
    assert not CategoryAlias.objects.filter(wording="某写法").exists()
    # the import with English headers is off for 类别写法 and 镇街
    assert client.get("/admin/beneficiaries/categoryalias/import/").status_code == 403
    assert client.get("/admin/beneficiaries/town/import/").status_code == 403
    assert login(staff["district_clerk"]).get(reverse("admin:beneficiaries_categoryalias_import_file")).status_code in (302, 403)
