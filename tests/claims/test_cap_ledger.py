"""Issue 10, "one cap ledger": annual cap usage is locked, read and added to in one module,
``claims/caps.py``, whichever door decides the money (a hand bill, load_history's historic decisions,
a one-stop settlement file and its disputed lines, a re-decision). A scan proves no other module
writes or locks a cap row; a person's cap is consumed once — never twice, never past the cap —
whichever doors their bills come through, and the row always equals what ``verify_books`` expects."""

from __future__ import annotations

import ast
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from claims import caps
from claims.models import CapUsage, SettlementLine
from claims.services import bill_decide, bill_record_historic, decision_approve
from claims.settlement import settlement_line_resolve
from tests.claims.test_settlement import csv_bytes, line, upload_and_import
from tests.funding.test_verify_books import run_verify

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
WRITES = {"select_for_update", "create", "get_or_create", "update_or_create", "bulk_create", "bulk_update", "update",
          "delete", "raw"}


def _root(node):
    attrs = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        else:
            return (node.id if isinstance(node, ast.Name) else None), attrs


def cap_writes(source: str, where: str = "<code>") -> list[str]:
    """Every line of ``source`` that writes or locks a CapUsage row, or builds one."""
    found = {}
    for n in ast.walk(ast.parse(source)):
        if isinstance(n, ast.Call):
            root, attrs = _root(n.func)
            if root == "CapUsage" and (not attrs or set(attrs) & WRITES):
                found.setdefault(n.lineno, f"{where}:{n.lineno}: CapUsage{''.join('.' + a for a in reversed(attrs))}(…)")
        elif isinstance(n, (ast.Assign, ast.AugAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "used" for t in targets):
                found.setdefault(n.lineno, f"{where}:{n.lineno}: .used = …")
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            text = n.value.lower()
            if "claims_capusage" in text and any(w in text for w in ("update", "insert", "delete", "for update")):
                found.setdefault(n.lineno, f"{where}:{n.lineno}: SQL on claims_capusage")
    return [found[k] for k in sorted(found)]


def test_the_scan_catches_a_cap_row_written_or_locked_elsewhere():
    bad = '''
rows = CapUsage.objects.select_for_update().filter(person_id=1)
CapUsage.objects.get_or_create(person_id=1, year=2025, scheme="INPATIENT")
CapUsage.objects.filter(pk=1).update(used=0)
row.used = row.used + amount
CapUsage(person_id=1, year=2025, scheme="YOUFU").save()
cur.execute('UPDATE "claims_capusage" SET used = 0')
'''
    assert len(cap_writes(bad)) == 6, cap_writes(bad)
    assert cap_writes('used = dict(CapUsage.objects.filter(person=p).values_list("scheme", "used"))') == []


def test_no_module_but_the_cap_ledger_writes_or_locks_a_cap_row():
    # bench/ resets the caps of its own throw-away database between two timed runs: not a door of the product
    skip = {"migrations", "tests", ".venv", "node_modules", "static", "bench"}
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if skip & set(rel.parts) or rel.as_posix() == "claims/caps.py":
            continue
        found += cap_writes(path.read_text(encoding="utf-8"), rel.as_posix())
    assert found == [], "cap rows written outside claims/caps.py:\n" + "\n".join(found)


def test_a_cap_is_consumed_once_whichever_door_the_money_comes_through(people, staff, enter_bill, institutions):
    """张双龙 (低保, 80%) has a 10,000 inpatient cap for 2025 at a level-2 hospital. The old system's
    decision, a hand bill, a one-stop file (an agreed line and one past the cap, settled by a reviewer)
    and a re-decision each count once; the cap is never passed; the row always equals verify_books'."""
    person, clerk, rev = people["slh"], staff["district_clerk"], staff["reviewer"]

    def used():
        return CapUsage.objects.get(person=person, year=2025, scheme="INPATIENT").used

    def consistent():
        assert used() == caps.expected()[(person.pk, 2025, "INPATIENT")]
        assert not caps.lock({(person.pk, 2025)}).used(person.pk, 2025)["INPATIENT"] > Decimal("10000.00")

    # 1. load_history's door: the old system decided 1,000 in January
    bill_record_historic(entered_by=clerk, approved_by=rev, scheme="INPATIENT", category="DIBAO",
                         assistance=Decimal("1000.00"), source="原系统票据H1", person=person,
                         institution=institutions["YB01"], kind="INPATIENT", disease="", admitted_on=None,
                         settled_on=date(2025, 1, 10), total_cost=Decimal("3000.00"), in_policy_cost=Decimal("3000.00"),
                         basic_paid=Decimal("1500.00"), critical_paid=Decimal("0.00"))
    assert used() == Decimal("1000.00")
    consistent()
    # 2. a hand bill: 5,000 × 80% = 4,000
    bill = enter_bill(person, settled_on=date(2025, 3, 10), in_policy="10000.00", basic="5000.00")
    bill_decide(bill_id=bill.pk, user=clerk)
    d = decision_approve(bill_id=bill.pk, user=rev)
    assert d.assistance == Decimal("4000.00") and used() == Decimal("5000.00")
    consistent()
    # 3. a one-stop file: S001 agreed (4,000), S002 asks 4,000 where 1,000 is left
    f = upload_and_import(institutions["YB01"], csv_bytes([
        line("S001", person, "4000.00", day=15),
        line("S002", person, "4000.00", day=20),
    ]), clerk)
    assert (f.lines_agreed, f.lines_disputed) == (1, 1) and used() == Decimal("9000.00")
    consistent()
    over = SettlementLine.objects.get(file=f, settlement_no="S002")
    assert (over.dispute, over.decided) == ("CAP_EXCEEDED", Decimal("1000.00"))
    settlement_line_resolve(line_id=over.pk, user=rev, resolution="ENGINE")
    assert used() == Decimal("10000.00")
    consistent()
    # 4. the hand bill decided again: its 4,000 leaves and comes back under the same lock, not counted twice
    again = bill_decide(bill_id=bill.pk, user=clerk, reason="核对发票后重新核定")
    assert again.assistance == Decimal("4000.00") and used() == Decimal("10000.00")
    decision_approve(bill_id=bill.pk, user=rev)
    consistent()
    # 5. nothing is left for a later bill
    late = enter_bill(person, settled_on=date(2025, 4, 2), in_policy="6000.00", basic="3000.00")
    assert bill_decide(bill_id=late.pk, user=clerk).assistance == Decimal("0.00")
    assert used() == Decimal("10000.00")
    consistent()
    code, out = run_verify()
    assert "【年度限额与核定不符】" not in out, out


def test_a_figure_below_zero_is_refused_and_nothing_is_written(people):
    from claims.services import ClaimsError

    person = people["slh"]
    ledger = caps.lock({(person.pk, 2025)})
    ledger.add(person.pk, 2025, "INPATIENT", Decimal("300.00"))
    with pytest.raises(ClaimsError, match="年度限额使用额将为负数"):
        ledger.add_many({(person.pk, 2025, "OUTPATIENT"): Decimal("10.00"), (person.pk, 2025, "INPATIENT"): Decimal("-300.01")})
    assert dict(CapUsage.objects.filter(person=person, year=2025).exclude(used=0).values_list("scheme", "used")) == {
        "INPATIENT": Decimal("300.00")}
    with pytest.raises(LookupError):
        ledger.add(person.pk, 2024, "INPATIENT", Decimal("1.00"))  # a row not locked is never written
