"""The hand-over file for towns that leave (docs/areas.md): identities, this year's cap use per scheme,
open receivables and undecided bills of the people living there the day before, read back."""

import io
from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command

from claims.handover import handover_workbook, read_handover
from claims.models import Adjustment, Decision
from claims.services import decision_approve
from funding.models import Receivable

pytestmark = pytest.mark.django_db

LEAVE = date(2026, 1, 25)


def test_the_hand_over_file_of_leaving_towns_reads_back(make_person, decided_bill, enter_bill, staff, towns, tmp_path):
    tj = make_person("统景甲", town="TJ", categories=("TEKUN",))
    make_person("双龙湖乙", town="SLH")  # stays: not in the file
    bill = decided_bill(tj, settled_on=date(2026, 1, 10), in_policy="5000.00", basic="0.00")
    decision_approve(bill_id=bill.pk, user=staff["reviewer"], confirm_provisional=True)
    open_bill = enter_bill(tj, settled_on=date(2026, 1, 20), in_policy="1234.56", basic="0.00")
    d = Decision.objects.get(bill=bill)
    Adjustment.objects.create(
        decision=d, person=tj, town=towns["TJ"], fund="ASSISTANCE", kind=Adjustment.Kind.RECOVERY,
        amount=Decimal("1200.00"), source_key="test:recovery:1", reason="重新核定多付", receivable_ref="R-TEST-1",
        created_by=staff["district_clerk"],
    )
    Receivable.objects.create(source_key="R-TEST-1", debtor_name=tj.name, fund="ASSISTANCE", amount=Decimal("1200.00"),
                              recovered=Decimal("200.00"), reason="重新核定多付", opened_by=staff["finance"])

    h = handover_workbook(towns=[towns["TJ"], towns["DW"]], on=LEAVE, user=staff["district_clerk"], reason="移交北碚区")
    assert h.people == 1 and "含完整号码" in h.file_name
    back = read_handover(h.data)
    assert [(r["公民身份号码"], r["姓名"], r["镇街"], r["身份类别"]) for r in back["people"]] == [
        (tj.id_number, "统景甲", "统景镇", tj.identities.get().category.name)
    ]
    caps = {r["限额项目"]: r["已使用金额"] for r in back["caps"]}
    assert sum(caps.values()) == d.assistance and all(r["年度"] == 2026 for r in back["caps"])
    assert [(r["来源编号"], r["应收金额"], r["未追回"]) for r in back["receivables"]] == [
        ("R-TEST-1", Decimal("1200.00"), Decimal("1000.00"))
    ]
    assert [(r["票据号"], r["政策范围内费用"], r["状态"]) for r in back["bills"]] == [
        (open_bill.pk, Decimal("1234.56"), "已录入")
    ]
    # full ID numbers on purpose: recorded in the audit trail with who and why
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).latest("pk")
    assert entry.actor == staff["district_clerk"] and "移交北碚区" in str(entry.changes)

    out = tmp_path / "h.xlsx"
    buf = io.StringIO()
    call_command("handover_file", towns="统景镇,大湾镇", on="2026-01-25", user="district_clerk", reason="移交北碚区",
                 out=str(out), stdout=buf)
    assert "1人" in buf.getvalue() and read_handover(out.read_bytes())["people"][0]["姓名"] == "统景甲"


def test_someone_who_moved_out_of_a_leaving_town_before_is_not_handed_over(make_person, towns, staff):
    from beneficiaries.towns import person_town_change

    p = make_person("早已迁出", town="TJ")
    person_town_change(p, towns["SLH"], date(2025, 6, 1), source_ref="迁移证明")
    q = make_person("迁入统景", town="SLH")
    person_town_change(q, towns["TJ"], date(2025, 6, 1), source_ref="迁移证明")
    back = read_handover(handover_workbook(towns=[towns["TJ"]], on=LEAVE, user=staff["district_clerk"], reason="移交").data)
    assert {r["姓名"] for r in back["people"]} == {"迁入统景"}
