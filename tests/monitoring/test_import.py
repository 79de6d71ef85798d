"""import_high_cost: a month's export with each kind of alert and the bad rows of the roster tests
(POLICY.md §15, docs/monitoring.md)."""

import os
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
    # written by COPY with the ids taken from the sequence: what workflow.record_start_many writes, for every alert
    starts = list(Alert.objects.order_by("pk").values_list("pk", "status_changes__from_status", "status_changes__to_status",
                                                           "status_changes__reason"))
    assert starts == [(a.pk, "", "OPEN", "2025年06月高额医疗费用监测") for a in Alert.objects.order_by("pk")]
    assert [a.kind for a in Alert.objects.order_by("pk")] == [AlertKind.YJWJ, AlertKind.FDZZ, AlertKind.YBZP]  # as raised
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


FULL_HEADER = ["结算编号", "身份证号", "姓名", "所属镇街", "结算日期", "医疗机构编码", "医疗机构名称", "医疗机构等级", "就诊类型", "疾病名称",
               "医疗总费用", "政策范围内费用", "基本医保支付", "大病保险支付", "大额报销金额", "医疗救助支付", "倾斜救助", "优抚补助支付",
               "扶贫济困金额", "渝快保支出金额", "个人账户支付金额", "个人现金支付金额"]


def _every_kind_of_row() -> list[list]:
    """Rows in FULL_HEADER's order: good ones in every spelling, and every error and warning the check names."""
    good = valid_id(date(1980, 1, 1), 1)
    x_id = next(valid_id(date(1975, 5, 5), s) for s in range(1000) if valid_id(date(1975, 5, 5), s).endswith("X"))
    base = {"sno": "G1", "id": good, "name": "张三", "town": "双龙湖街道", "date": "2025-06-10", "code": "YB01", "iname": "",
            "level": "", "kind": "住院", "disease": "肺癌", "total": "30000.00", "inpol": "25000.00", "basic": "15000.00",
            "crit": "2000.00", "large": "", "assist": "0", "tilted": "", "youfu": "", "charity": "", "commercial": "",
            "account": "", "cash": ""}

    def r(**kw):
        d = {**base, **kw}
        return [d[k] for k in base]

    rows = [
        r(), r(sno=" G 2 "), r(sno="Ｇ３", name=" 李  四 ", town="双龙湖"), r(sno="G4", id=x_id.lower()), r(sno="G5", id=f" {good} "),
        r(sno="G6", id="500112800101001"), r(sno="G7", date="2025/6/1"), r(sno="G8", date="20250601"),
        r(sno="G9", date="2025年6月1日"), r(sno="G10", date="2025-06-10 08:30:00"), r(sno="G11", kind="门诊慢特病"),
        r(sno="G12", kind="普通 门诊"), r(sno="G13", total="1,000.00", inpol="900", basic="100元", crit="０"),
        r(sno="G14", code="", iname="重庆医科大学附属第一医院"), r(sno="G15", code="yb01", level="三级甲等"),
        r(sno="G16", code="NOPE"), r(sno="G17", code="NOPE", level="二级"), r(sno="G18", code="NOPE", level="未定级"),
        r(sno="G19", account="1000.00", cash="12000.00"), r(sno="G20", account="1000.00"),
        r(sno="G21", large="500.00", tilted="100.00", youfu="50", charity="10", commercial="20", assist="300.00"),
        r(sno="G22", disease="  恶性  肿瘤 "), r(sno="G23", total="25000.00"),
        # bad rows
        r(sno=""), r(sno="S" * 61), r(sno="B1", id=""), r(sno="B2", id="500112196005011234"), r(sno="B3", id="12345"),
        r(sno="B4", id="500112999901011234"), r(sno="B5", name=""), r(sno="B6", name="长" * 51), r(sno="B7", town=""),
        r(sno="B8", town="火星镇"), r(sno="B9", date=""), r(sno="B10", date="2025-13-45"), r(sno="B11", date="1800-01-01"),
        r(sno="B12", kind=""), r(sno="B13", kind="急诊"), r(sno="B14", total=""), r(sno="B15", basic="-5.00"),
        r(sno="B16", crit="12.345"), r(sno="B17", assist="abc"), r(sno="B18", inpol="1e3"), r(sno="B19", total="1000000000000"),
        r(sno="B20", total="1000.00", inpol="2000.00", basic="0", crit="0"),
        r(sno="B21", inpol="1000.00", total="5000.00", basic="900.00", crit="200.00"),
        r(sno="B22", total="1000.00", inpol="1000.00", basic="800.00", crit="100.00", assist="200.00"),
        r(sno="B23", code="", iname=""), r(sno="B24", level="特级"), r(sno="", id="", name="", town="", date="", kind="", total="x"),
        r(sno="B25", id="500112800101001", name=""),
        r()[:5],  # a short row: every later cell empty
    ]
    return rows


@pytest.mark.parametrize("as_xlsx", [False, True])
def test_the_fast_check_says_what_the_plain_check_says_row_for_row(institutions, towns, as_xlsx):
    """The compiled per-file check (speed, issue 12) gives the same lines, errors and warnings, in the
    same order, as the check written field by field, for every kind of good and bad row, in CSV and xlsx."""
    import io

    from monitoring.importing import Summary, _check_reference, _Reference, read_lines
    from yfbz.files.formats import HIGH_COST
    from yfbz.files.reader import read_table

    rows = _every_kind_of_row()
    if as_xlsx:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.append(FULL_HEADER)
        for cells in rows:  # numbers as numbers, as Excel keeps them
            ws.append([float(c) if isinstance(c, str) and c.replace(".", "", 1).isdigit() and i >= 10 else c
                       for i, c in enumerate(cells)])
        buf = io.BytesIO()
        wb.save(buf)
        data = buf.getvalue()
    else:
        data = csv_bytes(rows, header=FULL_HEADER)
    narrow = csv_bytes([c[:10] + c[10:14] + c[15:18] for c in rows],  # no level, large-amount, charity or account columns
                       header=FULL_HEADER[:10] + FULL_HEADER[10:14] + FULL_HEADER[15:18])
    for body in (data, narrow):
        fast = Summary()
        lines, _ = read_lines(body, fast)
        plain = Summary()
        table = read_table(body, HIGH_COST)
        ref = _Reference()
        expected = [x for n, cells in table.rows if (x := _check_reference(ref, table, n, cells, plain)) is not None]
        assert lines == expected
        assert fast.errors == plain.errors and fast.warnings == plain.warnings
        assert (fast.error_count, fast.warning_count) == (plain.error_count, plain.warning_count)
        assert len(lines) >= 20 and fast.error_count >= 25 and fast.warning_count >= 3
        assert fast.rows == len(rows) and fast.valid == len(lines) and fast.invalid == fast.rows - len(lines)


@pytest.mark.parametrize("child", ["reads", "fails"])
def test_a_big_csv_read_in_two_processes_gives_what_one_process_gives(institutions, towns, monkeypatch, child):
    """Speed (issue 12): a big CSV's second part is read and checked by a forked process. The lines,
    errors, warnings (in row order, the first 1,000), counts and 合计 rows are those of one process
    reading the whole file; a child that fails leaves the rest to the parent, with the same result."""
    from monitoring import importing
    from monitoring.importing import Summary, read_lines

    kinds = [r for r in _every_kind_of_row() if not any("," in c or '"' in c for c in r)]  # a quote: one process
    rows = []
    for i in range(60):
        for r in kinds:
            rows.append([f"{r[0]}-{i}" if r[0] and len(r[0]) < 50 else r[0], *r[1:]])
        if i % 7 == 3:
            rows.append([""] * 5)  # a blank row
    rows.append(["合计", "", "", "", "", "", "", "", "", "", "1.00"])
    data = csv_bytes(rows, header=FULL_HEADER)
    monkeypatch.setattr(importing, "SPLIT_MIN_BYTES", 1 << 60)
    one = Summary()
    lines_one, reading_one = read_lines(data, one)
    monkeypatch.setattr(importing, "SPLIT_MIN_BYTES", 0)
    assert importing._split_point(data) is not None
    if child == "fails":
        def fail(*args):
            raise RuntimeError("the child's failure")

        monkeypatch.setattr(importing, "_read_other_half", fail)
    handed_back = []
    lines_from = importing._lines_from
    monkeypatch.setattr(importing, "_lines_from", lambda block, *args: (handed_back.append(len(block)), lines_from(block, *args)))
    two = Summary()
    lines_two, reading_two = read_lines(data, two)
    assert (sum(handed_back) > 500) if child == "reads" else not handed_back
    assert lines_two == lines_one and reading_two == reading_one and reading_one["skipped"]
    assert two.as_json() == one.as_json() and (two.error_count, two.warning_count) == (one.error_count, one.warning_count)
    assert one.error_count > MAX_LISTED and one.warning_count > 100 and len(lines_one) > 1000
    assert [type(x.total_cost) for x in lines_two] == [Decimal] * len(lines_two)
    # a quote anywhere: read in one process (a quoted cell may hold a line break)
    assert importing._split_point(data + b'"x"\r\n') is None


MAX_LISTED = 1000


@pytest.mark.parametrize("child", ["decides", "fails"])
def test_recipients_decided_in_two_processes_as_in_one(make_person, institutions, monkeypatch, child):
    """Speed (issue 12): every other person's lines decided by a forked process give the rows, the 应救未救
    alerts (their figures and their order) and the summary one process gives; a child that fails leaves its
    half to the parent."""
    from monitoring import importing

    people = [make_person(f"救{i}", town="SLH" if i % 2 else "HX", categories=("DIBAO",)) for i in range(7)]
    rows = []
    for i in range(60):  # caps run out along each person's year: the order of their lines matters
        who = people[i % 7]
        rows.append(row(f"D{i:03d}", who, town="双龙湖街道" if i % 2 else "回兴街道", settled=f"2025-06-{1 + (i * 7) % 28:02d}",
                        total="40000.00", in_policy="36000.00", basic="12000.00", critical="3000.00",
                        assistance="0" if i % 3 else "2000.00", kind="住院" if i % 4 else "门诊"))
    data = csv_bytes(rows)

    def imported():
        summary, imp = importing.import_high_cost(data=data, file_name="f.csv", month=date(2025, 6, 1), apply=True)
        got = (summary.as_json(),
               list(HighCostRow.objects.filter(high_cost_import=imp).order_by("settlement_no").values_list(
                   "settlement_no", "person_id", "engine_assistance", "scheme", "category")),
               list(Alert.objects.filter(raised_by_import=imp).order_by("pk").values_list(
                   "kind", "id_number", "row__settlement_no", "burden", "expected", "figures", "town_id")))
        transaction.set_rollback(True)
        return got

    from django.db import transaction

    with transaction.atomic():
        one = imported()
    monkeypatch.setattr(importing, "ENGINE_SPLIT_MIN", 1)
    forked = []
    init = importing._EngineHalf.__init__
    monkeypatch.setattr(importing._EngineHalf, "__init__", lambda self, *a: (forked.append(1), init(self, *a))[1])
    if child == "fails":
        def fail(xs, *args):
            if os.getpid() != parent:
                raise RuntimeError("the child's failure")
            return decide_lines(xs, *args)

        parent, decide_lines = os.getpid(), importing._decide_lines
        monkeypatch.setattr(importing, "_decide_lines", fail)
    with transaction.atomic():
        two = imported()
    assert forked and two == one
    assert one[0]["alerts"]["YJWJ"] >= 5 and len({r[4] for r in one[1]}) > 1  # some decided, some not


def test_a_row_naming_its_institution_by_name_only_is_read_after_rows_with_blank_amounts(month_file, run_import, institutions):
    """The format takes 医疗机构编码 or 名称. The row check used to look the institution's cells up in the
    amounts' memo once an amount had been read: a blank code after any blank amount cell (倾斜救助 is
    usually blank) stopped the import with an internal error, and a level "2" after an amount "2" too."""
    from .conftest import HEADER

    rows = [row("N1", valid_id(date(1980, 1, 1), 31), "甲"),
            row("N2", valid_id(date(1980, 1, 1), 32), "乙", inst="", inst_name="重庆医科大学附属第一医院", total="2", in_policy="2",
                basic="1", critical="0")]
    code, out = run_import(csv_bytes(rows, header=HEADER))
    assert code == 0, out
    assert (out["valid"], out["invalid"], out["errors"]) == (2, 0, [])
    code, out = run_import(csv_bytes(rows, header=HEADER), apply=True)
    assert code == 0 and HighCostRow.objects.get(settlement_no="N2").institution == institutions["CQ01"]
    assert HighCostRow.objects.get(settlement_no="N2").level == 3


def test_text_with_backslashes_and_quotes_is_stored_as_written(run_import, institutions, towns):
    """Rows, year burdens and alerts go in by COPY text: a backslash, a quote or a tab-like sequence in a
    name or a disease arrives as the clerk wrote it (the figures' JSON too)."""
    from .conftest import HEADER

    stranger = valid_id(date(1970, 3, 3), 902)
    rows = [row("Q\\1", stranger, "赵\\t居民\"", disease="肺癌\\n(晚期)", total="90000.00", in_policy="40000.00", basic="20000.00",
                critical="5000.00")]
    code, out = run_import(csv_bytes(rows, header=HEADER), apply=True)
    assert code == 0 and out["alerts"]["YBZP"] == 1, out
    r = HighCostRow.objects.get()
    assert (r.settlement_no, r.name, r.disease) == ("Q\\1", "赵\\t居民\"", "肺癌\\n(晚期)")
    assert PersonYearBurden.objects.get().name == "赵\\t居民\""
    alert = Alert.objects.get()
    assert alert.name == "赵\\t居民\"" and alert.figures["年度个人负担"] == "65,000.00"
    assert alert.status_changes.count() == 1 and alert.status == Alert.Status.OPEN


def test_a_failure_while_deciding_leaves_nothing_of_the_import(month_file, monkeypatch):
    """The rows of people not on our rosters go in while the engine decides the others: if deciding fails,
    those rows, the import and everything else are gone with the transaction (nothing half-applied), and
    the same file then imports whole."""
    from monitoring import importing

    real = importing.decide_bill

    def broken(*args, **kwargs):
        raise RuntimeError("引擎故障")

    monkeypatch.setattr(importing, "decide_bill", broken)
    with pytest.raises(RuntimeError, match="引擎故障"):
        importing.import_high_cost(data=month_file["data"], file_name="f.csv", month=date(2025, 6, 1), apply=True)
    from monitoring.models import HighCostImport

    assert (HighCostImport.objects.count(), HighCostRow.objects.count(), PersonYearBurden.objects.count(), Alert.objects.count()) == (
        0, 0, 0, 0)
    monkeypatch.setattr(importing, "decide_bill", real)
    summary, imp = importing.import_high_cost(data=month_file["data"], file_name="f.csv", month=date(2025, 6, 1), apply=True)
    assert HighCostRow.objects.filter(high_cost_import=imp).count() == 4 and summary.alerts == {"YJWJ": 1, "FDZZ": 1, "YBZP": 1}
    assert HighCostRow.objects.filter(high_cost_import=imp, person__isnull=True).count() == 1  # the stranger's row, in the background


def test_the_database_refuses_a_second_alert_for_the_same_row_or_person_year(month_file, run_import):
    """D12 held by the database itself (alert_once_per_row, alert_once_per_person_year), whatever writes
    the alerts: the import's COPY has no per-row check of its own. (Django's AlterField on Alert.row with
    db_index=False drops the partial unique index along with the plain one: keep this test.)"""
    from django.db import IntegrityError, transaction

    code, out = run_import(month_file["data"], apply=True)
    assert code == 0 and out["alerts"] == {"YJWJ": 1, "FDZZ": 1, "YBZP": 1}
    for kind in (AlertKind.YJWJ, AlertKind.FDZZ):
        alert = Alert.objects.get(kind=kind)
        alert.pk = None
        with pytest.raises(IntegrityError), transaction.atomic():
            alert.save()
