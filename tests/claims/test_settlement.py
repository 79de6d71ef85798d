"""One-stop settlement audit: lines decided again and sorted agreed / disputed with the reason;
the same file twice pays nothing twice; a bad line refuses the whole file naming row and field."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import Workbook

from claims.models import CapUsage, SettlementFile, SettlementLine, SettlementMonth
from claims.selectors import payables
from claims.services import ClaimsError, payables_mark_paid
from claims.settlement import (
    SettlementFileError,
    settlement_file_import,
    settlement_file_upload,
    settlement_line_resolve,
    settlement_month_confirm,
)

pytestmark = pytest.mark.django_db
HEAD = ["结算编号", "公民身份号码", "姓名", "类型", "疾病", "入院日期", "结算日期", "医疗总费用", "政策范围内费用",
        "基本医保支付", "大病保险支付", "医疗救助垫付"]
MARCH = date(2025, 3, 1)


def csv_bytes(rows):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEAD)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def xlsx_bytes(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(HEAD)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def line(no, person, advanced, *, kind="住院", in_policy="10000.00", basic="5000.00", day=15, idn=None):
    return [no, idn or person.id_number, person.name if person else "某人", kind, "", "", f"2025-03-{day:02d}",
            in_policy, in_policy, basic, "0.00", advanced]


def upload_and_import(institution, data, user, name="h.csv"):
    f = settlement_file_upload(institution=institution, month=MARCH, file_name=name, data=data, user=user)
    return settlement_file_import(file_id=f.pk, user=user)


@pytest.fixture
def march_file(institutions, people, make_person, staff):
    """YB01 level 2. 张双龙 DIBAO 80%; 李回兴 BINGGU_YISHU 75%; 周结束 DIBAO ended in February."""
    ended = make_person("周结束", categories=("DIBAO",))
    ended.identities.update(valid_to=date(2025, 2, 28))
    rows = [
        line("S001", people["slh"], "4000.00"),  # 5000 × 80% = 4000: agreed
        line("S002", people["hx"], "4000.00"),  # 5000 × 75% = 3750: wrong ratio
        line("S003", ended, "4000.00"),  # not eligible on the date
        line("S004", None, "100.00", idn="500112199001011234"),  # unknown person
        line("S001", people["slh"], "4000.00"),  # the same settlement twice in the file
        line("S005", people["slh"], "8000.00", in_policy="15000.00", basic="5000.00", day=20),  # cap: 6000 left
    ]
    return upload_and_import(institutions["YB01"], csv_bytes(rows), staff["district_clerk"])


def outcomes(f):
    return {
        (ln.line_no, ln.settlement_no): (ln.outcome, ln.dispute, ln.decided, ln.difference)
        for ln in SettlementLine.objects.filter(file=f)
    }


def test_every_line_is_decided_again_and_sorted_with_its_reason(march_file):
    got = outcomes(march_file)
    assert got[(2, "S001")] == ("AGREED", "", Decimal("4000.00"), Decimal("0.00"))
    assert got[(3, "S002")] == ("DISPUTED", "WRONG_RATIO", Decimal("3750.00"), Decimal("250.00"))
    assert got[(4, "S003")][:2] == ("DISPUTED", "NOT_ELIGIBLE")
    assert got[(5, "S004")][:2] == ("DISPUTED", "UNKNOWN_PERSON")
    assert got[(6, "S001")][:2] == ("DISPUTED", "DUPLICATE")
    assert got[(7, "S005")] == ("DISPUTED", "CAP_EXCEEDED", Decimal("6000.00"), Decimal("2000.00"))
    assert (march_file.lines_agreed, march_file.lines_disputed, march_file.agreed_total) == (1, 5, Decimal("4000.00"))


def test_agreed_lines_count_in_the_persons_cap(march_file, people):
    assert CapUsage.objects.get(person=people["slh"], year=2025, scheme="INPATIENT").used == Decimal("4000.00")


def test_the_same_file_imported_twice_pays_nothing_twice(institutions, people, staff):
    data = csv_bytes([line("S001", people["slh"], "4000.00")])
    upload_and_import(institutions["YB01"], data, staff["district_clerk"])
    with pytest.raises(ClaimsError, match="已于.*导入"):
        settlement_file_upload(institution=institutions["YB01"], month=MARCH, file_name="again.csv", data=data,
                               user=staff["district_clerk"])
    # the same lines re-exported as xlsx (other bytes): every line is a duplicate and pays nothing
    again = upload_and_import(institutions["YB01"], xlsx_bytes([line("S001", people["slh"], "4000.00")]),
                              staff["district_clerk"], name="again.xlsx")
    assert outcomes(again)[(2, "S001")][:2] == ("DISPUTED", "DUPLICATE")
    assert again.agreed_total == Decimal("0.00")
    assert CapUsage.objects.get(person=people["slh"], year=2025, scheme="INPATIENT").used == Decimal("4000.00")
    dup = SettlementLine.objects.get(file=again)
    settlement_line_resolve(line_id=dup.pk, user=staff["reviewer"], resolution="NONE")
    sm = settlement_month_confirm(month_id=again.settlement_month_id, user=staff["reviewer"])
    assert sm.agreed_total == Decimal("4000.00")


def test_a_bad_line_refuses_the_whole_file_naming_row_and_field(institutions, people, staff):
    rows = [line("S001", people["slh"], "4000.00"), line("S002", people["hx"], "12,5x")]
    rows[0][6] = "2025-13-01"
    f = settlement_file_upload(institution=institutions["YB01"], month=MARCH, file_name="bad.csv",
                               data=csv_bytes(rows), user=staff["district_clerk"])
    with pytest.raises(SettlementFileError) as exc:
        settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
    msg = str(exc.value)
    assert "第2行“结算日期”" in msg and "第3行“医疗救助垫付”" in msg
    f.refresh_from_db()
    assert f.status == "FAILED" and SettlementLine.objects.count() == 0 and CapUsage.objects.filter(used__gt=0).count() == 0


def test_importing_a_file_twice_by_two_workers_imports_it_once(institutions, people, staff):
    f = settlement_file_upload(institution=institutions["YB01"], month=MARCH, file_name="a.csv",
                               data=csv_bytes([line("S001", people["slh"], "4000.00")]), user=staff["district_clerk"])
    assert settlement_file_import(file_id=f.pk, user=staff["district_clerk"]) is not None
    assert settlement_file_import(file_id=f.pk, user=staff["district_clerk"]) is None
    assert SettlementLine.objects.count() == 1


def test_reviewer_settles_disputes_then_the_month_total_is_payable_once(march_file, staff, people):
    sm = march_file.settlement_month
    with pytest.raises(ClaimsError, match="未处理"):
        settlement_month_confirm(month_id=sm.pk, user=staff["reviewer"])
    with pytest.raises(ClaimsError, match="审核人员"):
        settlement_month_confirm(month_id=sm.pk, user=staff["district_clerk"])
    lines = {ln.settlement_no + ln.dispute: ln for ln in SettlementLine.objects.filter(file=march_file)}
    with pytest.raises(ClaimsError, match="只能不予支付"):
        settlement_line_resolve(line_id=lines["S001DUPLICATE"].pk, user=staff["reviewer"], resolution="ENGINE")
    settlement_line_resolve(line_id=lines["S002WRONG_RATIO"].pk, user=staff["reviewer"], resolution="ENGINE")
    settlement_line_resolve(line_id=lines["S005CAP_EXCEEDED"].pk, user=staff["reviewer"], resolution="ENGINE")
    for key in ("S003NOT_ELIGIBLE", "S004UNKNOWN_PERSON", "S001DUPLICATE"):
        settlement_line_resolve(line_id=lines[key].pk, user=staff["reviewer"], resolution="NONE")
    sm = settlement_month_confirm(month_id=sm.pk, user=staff["reviewer"])
    assert sm.agreed_total == Decimal("4000.00") + Decimal("3750.00") + Decimal("6000.00")
    assert CapUsage.objects.get(person=people["slh"], year=2025, scheme="INPATIENT").used == Decimal("10000.00")
    # confirmed today: March's settlements are in the request of the month they were confirmed in
    assert payables(year=2025, month=3) == []
    at = timezone.localtime(sm.confirmed_at)
    due = payables(year=at.year, month=at.month)
    assert [(p.source_key, p.amount, p.payee_kind, p.spending) for p in due] == [
        ("settlement:YB01:2025-03", Decimal("13750.00"), "INSTITUTION", "INSTITUTION")
    ]
    assert due[0].bank_account == "6200001"
    assert payables_mark_paid(source_keys=["settlement:YB01:2025-03"], paid_on=date(2025, 4, 20), user=staff["finance"]) == 1
    assert payables_mark_paid(source_keys=["settlement:YB01:2025-03"], paid_on=date(2025, 4, 21), user=staff["finance"]) == 0
    assert payables(year=at.year, month=at.month) == []
    assert SettlementMonth.objects.get(pk=sm.pk).paid_on == date(2025, 4, 20)
    with pytest.raises(ClaimsError, match="不能再导入"):
        settlement_file_upload(institution=march_file.settlement_month.institution, month=MARCH, file_name="late.csv",
                               data=csv_bytes([line("S009", people["slh"], "1.00")]), user=staff["district_clerk"])


def test_a_file_with_no_known_columns_is_refused_with_the_missing_headers(institutions, staff):
    f = settlement_file_upload(institution=institutions["YB01"], month=MARCH, file_name="x.csv",
                               data=b"a,b\n1,2\n", user=staff["district_clerk"])
    with pytest.raises(SettlementFileError, match="找不到表头.*必需的列：结算编号"):
        settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
    assert SettlementFile.objects.get(pk=f.pk).status == "FAILED"


def test_paying_what_the_institution_advanced_can_never_take_a_scheme_past_its_annual_cap(march_file, staff, people, decided_bill):
    """S005 asks 8000 where only 6000 of 张双龙's 10000 inpatient cap is left: the reviewer may not
    override the cap, and a bill decided after the import leaves even less for the engine's amount."""
    lines = {ln.settlement_no + ln.dispute: ln for ln in SettlementLine.objects.filter(file=march_file)}
    cap_line = lines["S005CAP_EXCEEDED"]
    with pytest.raises(ClaimsError, match="年度限额（本年剩余6000.00元）"):
        settlement_line_resolve(line_id=cap_line.pk, user=staff["reviewer"], resolution="ADVANCED", note="机构坚持")
    assert SettlementLine.objects.get(pk=cap_line.pk).resolution == ""
    # meanwhile a hand-settled bill of 张双龙 uses 4000 more of the cap (5000 × 80%)
    decided_bill(people["slh"], settled_on=date(2025, 3, 25), in_policy="10000.00", basic="5000.00")
    resolved = settlement_line_resolve(line_id=cap_line.pk, user=staff["reviewer"], resolution="ENGINE")
    assert resolved.payable == Decimal("2000.00")  # not the 6000 the import computed
    assert CapUsage.objects.get(person=people["slh"], year=2025, scheme="INPATIENT").used == Decimal("10000.00")


def test_paying_a_line_the_records_find_ineligible_is_refused_until_the_identity_is_corrected(march_file, staff):
    lines = {ln.settlement_no + ln.dispute: ln for ln in SettlementLine.objects.filter(file=march_file)}
    with pytest.raises(ClaimsError, match="不符合任何救助方案"):
        settlement_line_resolve(line_id=lines["S003NOT_ELIGIBLE"].pk, user=staff["reviewer"], resolution="ADVANCED",
                                note="当事人持有证明")


def test_the_page_offers_pay_what_was_advanced_only_where_it_would_be_accepted(march_file, staff, login):
    """Issue 11: duplicates, unknown people, lines the records find ineligible and lines past the cap are
    not offered "按机构垫付金额支付" (the service would refuse it); the page says why."""
    import re

    page = login(staff["reviewer"]).get(f"/claims/settlements/{march_file.settlement_month_id}/").content.decode()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr><td>\d+</td><td>(S\d+)</td>.*?</tr>", page, re.S)}
    offers = {no: "按机构垫付金额支付" in row.split("<select", 1)[-1].split("</select>")[0] for no, row in rows.items()
              if "<select" in row}
    assert offers == {"S002": True, "S003": False, "S004": False, "S001": False, "S005": False}
    assert "不可按垫付金额支付：查无此人，只能不予支付" in page
    assert "不可按垫付金额支付：第4行按系统记录在结算日不符合任何救助方案" in page
    assert "不可按垫付金额支付：重复结算，只能不予支付" in page and "本年剩余6000.00元" in page
