"""import_high_cost: a month's export with each kind of alert and the bad rows of the roster tests
(POLICY.md §15, docs/monitoring.md)."""

from datetime import date
from decimal import Decimal

import pytest

from monitoring.models import Alert, AlertKind, HighCostRow, PersonYearBurden
from tests.conftest import valid_id

from .conftest import csv_bytes, row

pytestmark = pytest.mark.django_db

STRANGER = valid_id(date(1970, 3, 3), 901)  # an insured resident with no identity, unknown to the bureau


@pytest.fixture
def month_file(make_person, institutions):
    """Row numbers are the spreadsheet's own: title row 1, header row 2, data from row 3."""
    dibao = make_person("张低保", town="SLH", categories=("DIBAO",))
    paid = make_person("李已救", town="HX", categories=("DIBAO",))
    light = make_person("王轻症", town="SLH", categories=("DIBAO",))
    rows = [
        # 3: a recipient, assistance would have paid, nothing paid → 应救未救; burden 13,000 → 负担仍重
        row("S001", dibao, total="30000.00", in_policy="25000.00", basic="15000.00", critical="2000.00"),
        # 4: a recipient the platform did assist: no 应救未救; burden 30,000 − 17,000 − 5,000 = 8,000 < H
        row("S002", paid, town="回兴街道", assistance="5000.00"),
        # 5: a resident with no identity, burden 50,000 − 20,000 − 5,000 = 25,000 → 疑似因病致贫返贫
        row("S003", STRANGER, "赵居民", inst="CQ01", total="50000.00", in_policy="40000.00", basic="20000.00", critical="5000.00"),
        # 6: a light outpatient bill of a recipient, fully paid: nothing
        row("S004", light, kind="门诊", total="900.00", in_policy="800.00", basic="500.00", critical="0", assistance="300.00"),
        # 7: the same settlement number again: a duplicate, skipped with a warning
        row("S001", dibao),
        # 8..15: bad rows
        row("S010", "500112196005011234", "坏校验"),
        row("S011", valid_id(date(1980, 1, 1), 11), ""),
        row("S012", valid_id(date(1980, 1, 1), 12), "政策大于总额", total="1000.00", in_policy="2000.00", basic="0", critical="0"),
        row("S013", valid_id(date(1980, 1, 1), 13), "未知镇街", town="火星镇"),
        row("S014", valid_id(date(1980, 1, 1), 14), "负数", basic="-5.00"),
        row("S015", valid_id(date(1980, 1, 1), 15), "统筹过多", in_policy="1000.00", total="5000.00", basic="900.00", critical="200.00"),
        row("S016", valid_id(date(1980, 1, 1), 16), "支付过多", total="1000.00", in_policy="1000.00", basic="800.00", critical="100.00",
            assistance="200.00"),
        row("S017", valid_id(date(1980, 1, 1), 17), "坏日期", settled="2025-13-45"),
    ]
    return {"data": csv_bytes(rows), "dibao": dibao, "paid": paid, "light": light}


def test_a_month_file_gives_the_summary_with_each_kind_of_alert_and_every_bad_row_named(month_file, run_import):
    code, out = run_import(month_file["data"])
    assert code == 0, out
    assert {k: out[k] for k in ("rows", "valid", "invalid", "duplicates", "people")} == {
        "rows": 13, "valid": 5, "invalid": 8, "duplicates": 1, "people": 4,
    }
    assert out["alerts"] == {"YJWJ": 1, "FDZZ": 1, "YBZP": 1}
    errors = {(e["row"], e["field"]) for e in out["errors"]}
    assert errors == {
        (8, "身份证号"), (9, "姓名"), (10, "政策范围内费用"), (11, "所属镇街"), (12, "基本医保支付"), (13, "基本医保支付"),
        (14, "医疗总费用"), (15, "结算日期"),
    }
    messages = {e["row"]: e["message"] for e in out["errors"]}
    assert "校验" in messages[8]
    assert "火星镇" in messages[11]
    assert "负数" in messages[12]
    assert messages[14] == "各项支付合计1,100.00大于医疗总费用1,000.00"
    assert out["warnings"] == [{"row": 7, "field": "结算编号", "message": "重复的结算编号，已跳过"}]
    # without --apply nothing changes
    assert not HighCostRow.objects.exists() and not Alert.objects.exists()


def test_apply_records_the_rows_the_burdens_and_the_alerts_with_their_figures(month_file, run_import):
    code, out = run_import(month_file["data"], apply=True)
    assert code == 0 and out["alerts"] == {"YJWJ": 1, "FDZZ": 1, "YBZP": 1}
    assert HighCostRow.objects.count() == 4
    yjwj = Alert.objects.get(kind=AlertKind.YJWJ)
    assert yjwj.person == month_file["dibao"] and yjwj.town.code == "SLH"
    assert yjwj.expected > 0 and yjwj.row.settlement_no == "S001"
    assert yjwj.figures["医疗救助支付"] == "0.00"
    assert yjwj.figures["按政策应付医疗救助"] == f"{yjwj.expected:,.2f}"
    assert yjwj.status == Alert.Status.OPEN and yjwj.due_on is not None
    assert yjwj.status_changes.count() == 1  # the workflow's history starts with the alert
    fdzz = Alert.objects.get(kind=AlertKind.FDZZ)
    assert fdzz.person == month_file["dibao"] and fdzz.burden == Decimal("13000.00") and fdzz.threshold == Decimal("10000.00")
    assert "暂行" in fdzz.figures["标准依据"]
    ybzp = Alert.objects.get(kind=AlertKind.YBZP)
    assert ybzp.person is None and ybzp.id_number == STRANGER and ybzp.burden == Decimal("25000.00")
    assert ybzp.threshold == Decimal("20000.00") and ybzp.town.code == "SLH"
    b = PersonYearBurden.objects.get(id_number=month_file["dibao"].id_number, year=2025)
    assert b.burden == Decimal("13000.00")
    assert b.self_pay_before == Decimal("8000.00")  # 25,000 − 15,000 − 2,000
    assert b.self_pay_after == Decimal("8000.00")  # nothing paid by assistance
    paid = HighCostRow.objects.get(settlement_no="S002")
    assert paid.self_pay_after == Decimal("3000.00")


def test_a_later_month_updates_the_burden_and_the_alert_and_raises_no_second_one(month_file, run_import):
    run_import(month_file["data"], apply=True)
    later = csv_bytes([
        row("S001", month_file["dibao"]),  # seen in an earlier import: a duplicate, never counted twice
        row("S101", month_file["dibao"], settled="2025-07-02", total="6000.00", in_policy="5000.00", basic="3000.00",
            critical="0", assistance="1000.00"),  # burden 2,000
        row("S102", STRANGER, "赵居民", settled="2025-07-05", total="3000.00", in_policy="2000.00", basic="1000.00", critical="0"),
    ])
    code, out = run_import(later, month="2025-07", apply=True)
    assert code == 0
    assert out["duplicates"] == 1 and out["warnings"][0]["row"] == 3
    assert out["alerts"] == {"YJWJ": 0, "FDZZ": 0, "YBZP": 0}
    fdzz = Alert.objects.get(kind=AlertKind.FDZZ)
    assert fdzz.burden == Decimal("15000.00") and fdzz.figures["年度个人负担"] == "15,000.00"
    assert Alert.objects.get(kind=AlertKind.YBZP).burden == Decimal("27000.00")
    assert Alert.objects.count() == 3


def test_hand_settled_bills_approved_in_the_software_count_in_the_burden(month_file, run_import, staff):
    from claims.models import Bill
    from claims.services import bill_decide, bill_enter, decision_approve

    person = month_file["light"]
    from claims.models import Institution

    bill = bill_enter(user=staff["district_clerk"], person=person, institution=Institution.objects.get(code="YB01"),
                      kind="INPATIENT", disease="", admitted_on=None, settled_on=date(2025, 5, 3),
                      total_cost=Decimal("40000.00"), in_policy_cost=Decimal("30000.00"), basic_paid=Decimal("18000.00"),
                      critical_paid=Decimal("2000.00"), account_holder=person.name, bank_name="重庆农村商业银行",
                      bank_account="6228480000000001")
    bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    decision_approve(bill_id=bill.pk, user=staff["reviewer"], confirm_provisional=True)
    assert Bill.objects.get(pk=bill.pk).status == Bill.Status.APPROVED
    d = bill.decisions.get(is_current=True)
    hand = Decimal("40000.00") - Decimal("20000.00") - d.assistance - d.youfu_subsidy
    code, out = run_import(month_file["data"], apply=True)
    b = PersonYearBurden.objects.get(id_number=person.id_number, year=2025)
    assert b.bills_burden == hand
    assert b.burden == hand + Decimal("100.00")  # the light outpatient row: 900 − 500 − 300


def test_an_unreadable_file_exits_2_with_the_reason(run_import):
    code, out = run_import(b"\x00\x01 not a spreadsheet")
    assert code == 2 and out["error"]
    code, out = run_import(csv_bytes([["1", "2"]], header=["甲", "乙"]))
    assert code == 2 and "找不到表头" in out["error"]


def test_header_variants_and_an_xlsx_file_are_read_alike(month_file, run_import):
    from openpyxl import Workbook

    from .conftest import HEADER

    variant = ["结算编号", "身份证号", "姓名", "所属镇街", "出院日期", "医疗机构编码", "医疗机构名称", "就诊类型", "诊断",
               "医疗总费用", "政策范围内费用", "基本医保支付", "大病保险支付", "救助支付", "倾斜救助", "优抚补助支付", "清算期"]
    assert len(variant) == len(HEADER)
    wb = Workbook()
    ws = wb.active
    ws.append(variant)
    ws.append(row("X1", month_file["dibao"]))
    import io

    buf = io.BytesIO()
    wb.save(buf)
    code, out = run_import(buf.getvalue(), suffix=".xlsx")
    assert code == 0 and out["valid"] == 1 and out["alerts"]["YJWJ"] == 1


def test_amounts_parsed_once_per_value_read_as_the_one_parser_does():
    """The import's memoised amount parser (speed: parse once per distinct value) gives what
    yfbz.files.cells.parse_amount gives, errors included, for every shape of cell."""
    from decimal import Decimal

    from monitoring.importing import _Amounts
    from yfbz.files.cells import parse_amount

    cells = ["0", "12.5", "1,234.50", "１２３.４", " 100 ", "100元", "", None, 12.5, 3, 1.0, True and 1, "000012",
             "999999999999.99", "12.345", "-5", "abc", "1e3", "NaN", "1000000000000", 0.1 + 0.2]
    amounts = _Amounts()
    for _ in range(2):  # the second pass answers from the memo
        for cell in cells:
            try:
                expected = parse_amount(cell)
            except ValueError as exc:
                with pytest.raises(ValueError) as got:
                    amounts.parse(cell)
                assert str(got.value) == str(exc)
            else:
                got = amounts.parse(cell)
                assert got == expected and str(got) == str(expected), cell
    assert amounts.parse("7") == Decimal("7.00") and str(amounts.parse("7")) == "7.00"
