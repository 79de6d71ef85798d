"""The tax system's 税务代缴明细 (two title rows, the header on row 3) reconciled with the subsidy run,
person by person, each kind of disagreement explained in words and listed per town; the agreed
total becomes route (a)'s settlement and reaches the fund request (issue 18)."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from beneficiaries.models import Category
from funding import services
from funding.models import (
    Enrolment,
    SubsidyResult,
    TaxCategoryWording,
    TaxListSettlement,
    TaxReconciliationLine,
)
from funding.payables import _tax_payables
from funding.services import FundingError
from tests.conftest import valid_id
from yfbz.files.samples import tax_row, tax_xlsx, titled_xlsx

pytestmark = pytest.mark.django_db
STRANGER = valid_id(date(1970, 2, 3), 901)


@pytest.fixture
def year_run(make_person, staff, django_capture_on_commit_callbacks):
    """2025's run: 低保甲, 类别乙, 重复丙 and 漏保庚 DIBAO tier 1; 遗属乙 BINGGU_YISHU tier 2 in 回兴;
    自缴丁 DIBAO self-paid (route b); 职工戊 TEKUN insured with an employer (no subsidy)."""
    p = {
        "dibao": make_person("低保甲", categories=("DIBAO",)),
        "other": make_person("类别乙", categories=("DIBAO",)),
        "widow": make_person("遗属乙", town="HX", categories=("BINGGU_YISHU",)),
        "self": make_person("自缴丁", categories=("DIBAO",)),
        "employer": make_person("职工戊", categories=("TEKUN",)),
        "missing": make_person("漏保庚", categories=("DIBAO",)),
        "wording": make_person("写法辛", categories=("DIBAO",)),
    }
    for key, kind in (("dibao", "RESIDENT_T1"), ("other", "RESIDENT_T1"), ("widow", "RESIDENT_T2"),
                      ("employer", "EMPLOYEE_EMPLOYER"), ("missing", "RESIDENT_T1"), ("wording", "RESIDENT_T1")):
        Enrolment.objects.create(person=p[key], year=2025, kind=kind)
    Enrolment.objects.create(person=p["self"], year=2025, kind="RESIDENT_T1", self_paid=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.subsidy_run_start(year=2025, user=staff["district_clerk"])
    p["amount"] = {k: SubsidyResult.objects.get(person=v, year=2025).amount for k, v in p.items()}
    return p


def detail(p):
    a = p["amount"]
    return tax_xlsx([
        tax_row(1, p["dibao"].id_number, "低保甲", "双龙湖街道", "低保对象", float(a["dibao"])),  # agreed
        tax_row(2, p["widow"].id_number, "遗属乙", "回兴街道", "病故军人遗属", float(a["widow"] + 10)),  # amount
        tax_row(3, p["other"].id_number, "类别乙", "双龙湖街道", "特困人员", float(a["other"])),  # category
        tax_row(4, p["employer"].id_number, "职工戊", "双龙湖街道", "特困人员", 400),  # not eligible (employer)
        tax_row(5, STRANGER, "查无己", "回兴", "低保对象", 320),  # not in our records; town from the file
        tax_row(6, p["self"].id_number, "自缴丁", "双龙湖街道", "低保对象", float(a["self"])),  # both routes
        tax_row(7, p["dibao"].id_number, "低保甲", "双龙湖街道", "低保对象", float(a["dibao"])),  # duplicate
        tax_row(8, p["wording"].id_number, "写法辛", "双龙湖街道", "城乡低保户（A类）", float(a["wording"])),  # unknown wording
    ])


def lines(rec):
    return {(ln.name, ln.kind): ln for ln in TaxReconciliationLine.objects.filter(reconciliation=rec).select_related("town")}


def test_each_kind_of_disagreement_is_sorted_explained_and_placed_in_its_town(year_run, staff):
    p, a = year_run, year_run["amount"]
    rec = services.tax_reconciliation_import(year=2025, file_name="代缴明细2025.xlsx", data=detail(p),
                                             user=staff["district_clerk"])
    got = lines(rec)
    assert set(got) == {
        ("低保甲", "AGREED"), ("遗属乙", "AMOUNT"), ("类别乙", "CATEGORY"), ("职工戊", "NOT_ELIGIBLE"),
        ("查无己", "NOT_ELIGIBLE"), ("自缴丁", "BOTH_ROUTES"), ("低保甲", "DUPLICATE"), ("写法辛", "CATEGORY"),
        ("漏保庚", "MISSING"),
    }
    assert rec.reading["header_row"] == 3 and rec.rows == 8
    assert got[("低保甲", "AGREED")].row_no == 4  # the spreadsheet's own row (two title rows)
    assert got[("遗属乙", "AMOUNT")].explanation == (
        f"税务代缴{a['widow'] + 10:,.2f}元，我方应资助{a['widow']:,.2f}元，多10.00元")
    assert got[("遗属乙", "AMOUNT")].town.name == "回兴街道"
    assert "税务按“特困人员”代缴" in got[("类别乙", "CATEGORY")].explanation
    assert "我方最优身份为“低保对象”" in got[("类别乙", "CATEGORY")].explanation
    assert "不由税务代缴" in got[("职工戊", "NOT_ELIGIBLE")].explanation
    assert "系统中没有此人" in got[("查无己", "NOT_ELIGIBLE")].explanation
    assert got[("查无己", "NOT_ELIGIBLE")].town.name == "回兴街道"  # 回兴 in the file, without 街道
    assert "两种方式重复" in got[("自缴丁", "BOTH_ROUTES")].explanation
    assert "税务明细第4行已有此人" in got[("低保甲", "DUPLICATE")].explanation
    assert "对应不上我方的身份类别" in got[("写法辛", "CATEGORY")].explanation
    missing = got[("漏保庚", "MISSING")]
    assert missing.row_no is None and missing.our_amount == a["missing"] and "税务代缴明细中没有此人" in missing.explanation
    assert rec.agreed_total == a["dibao"]
    assert rec.counts["CATEGORY"] == 2 and rec.counts["AGREED"] == 1


def test_the_category_wordings_are_data_an_added_wording_agrees(year_run, staff):
    TaxCategoryWording.objects.create(wording="城乡低保户（A类）", category=Category.objects.get(code="DIBAO"))
    rec = services.tax_reconciliation_import(year=2025, file_name="a.xlsx", data=detail(year_run), user=staff["district_clerk"])
    assert ("写法辛", "AGREED") in lines(rec)
    assert rec.agreed_total == year_run["amount"]["dibao"] + year_run["amount"]["wording"]


def test_the_agreed_total_of_a_town_becomes_route_a_settlement_confirmed_by_another_person(year_run, staff):
    p = year_run
    rec = services.tax_reconciliation_import(year=2025, file_name="a.xlsx", data=detail(p), user=staff["district_clerk"])
    slh = p["dibao"].town
    args = {"reconciliation_id": rec.pk, "town_id": slh.pk, "payee_name": "国家税务总局重庆市渝北区税务局",
            "bank_name": "国库", "bank_account": "0001"}
    with pytest.raises(FundingError, match="经办与审核分离"):
        services.tax_reconciliation_settle(**args, user=staff["district_clerk"])
    s = services.tax_reconciliation_settle(**args, user=staff["reviewer"], on=date(2025, 3, 5))
    assert (s.people, s.amount) == (1, p["amount"]["dibao"])
    due = [x for x in _tax_payables(year=2025, month=3) if x.source_key == f"subsidy-a:{s.pk}"]
    assert [(x.amount, x.town_id, x.scheme) for x in due] == [(p["amount"]["dibao"], slh.pk, "资助参保（税务代缴）")]
    with pytest.raises(FundingError, match="已全部结算"):
        services.tax_reconciliation_settle(**args, user=staff["reviewer"])
    assert TaxListSettlement.objects.count() == 1


def test_a_bad_row_refuses_the_file_naming_row_and_field_and_a_file_without_its_header_names_the_columns(year_run, staff):
    p = year_run
    bad = tax_xlsx([tax_row(1, p["dibao"].id_number, "低保甲", "双龙湖街道", "低保对象", "-5")])
    with pytest.raises(FundingError, match="第4行“代缴金额”：金额不能为负数"):
        services.tax_reconciliation_import(year=2025, file_name="bad.xlsx", data=bad, user=staff["district_clerk"])
    wrong = titled_xlsx(("某某报表",), ["序号", "名字", "证件号"], [[1, "张三", "500"]])
    with pytest.raises(FundingError) as exc:
        services.tax_reconciliation_import(year=2025, file_name="wrong.xlsx", data=wrong, user=staff["district_clerk"])
    msg = str(exc.value)
    assert "找不到表头" in msg and "身份证件号码" in msg and "代缴类别" in msg and "第1行：某某报表" in msg
    assert "第2行：序号 | 名字 | 证件号" in msg
    assert TaxReconciliationLine.objects.count() == 0


def test_each_town_follows_up_only_its_own_and_exports_them(year_run, staff, login):
    rec = services.tax_reconciliation_import(year=2025, file_name="a.xlsx", data=detail(year_run), user=staff["district_clerk"])
    client = login(staff["hx_clerk"])
    page = client.get(f"/funding/subsidy/tax-detail/{rec.pk}/", {"town": "999"}).content.decode()
    assert "遗属乙" in page and "查无己" in page and "低保甲" not in page and "漏保庚" not in page
    assert "多10.00元" in page
    resp = client.get(f"/funding/subsidy/tax-detail/{rec.pk}/export.xlsx")
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("镇街", "结果", "税务明细行号")
    assert sorted(r[4] for r in rows[1:]) == ["查无己", "遗属乙"]
    assert all("*" in r[3] for r in rows[1:])  # masked unless asked for on purpose
    district = login(staff["district_clerk"]).get(f"/funding/subsidy/tax-detail/{rec.pk}/").content.decode()
    assert "漏保庚" in district and "双龙湖街道" in district


def test_only_a_district_clerk_imports_the_detail(year_run, staff):
    with pytest.raises(FundingError, match="区医保经办人员"):
        services.tax_reconciliation_import(year=2025, file_name="a.xlsx", data=detail(year_run), user=staff["reviewer"])
    assert Decimal("0") == sum((r.amount for r in TaxListSettlement.objects.all()), Decimal("0"))
