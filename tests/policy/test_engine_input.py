"""One builder of engine input (yfbz/policy/inputs.py) and the decision snapshot from the engine.

Every path that asks the engine something — hand bills, one-stop lines, subsidies, the person page,
what-if, re-decisions — builds its input in one place, so that a person attribute, an institution
flag or the person's area is added once; and a stored decision is the engine's own ``to_dict()``,
so that reading it back gives exactly what ``simulate`` prints.
"""

import ast
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("beneficiaries", "claims", "funding", "yfbz/core", "yfbz/policy")
BUILDER = ROOT / "yfbz/policy/inputs.py"
ENGINE_ENTRY = {"Person", "Identity", "adjudicate", "contribution_subsidy"}


def _imports_from_rules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("yfbz.rules"):
            names |= {a.name for a in node.names}
    return names


def test_only_the_builder_makes_engine_persons_or_calls_the_engine():
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if path == BUILDER or "migrations" in path.parts:
                continue
            hit = _imports_from_rules(path) & ENGINE_ENTRY
            if hit:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(hit)}")
    assert offenders == [], "build engine input with yfbz.policy.inputs, not by hand:\n" + "\n".join(offenders)


@pytest.fixture
def bill_setup(db, staff, make_person):
    from claims.models import Institution

    person = make_person("刘特困", town="SLH", categories=("TEKUN",))
    inst = Institution.objects.create(code="H900", name="测试医院", level=2)
    return person, inst


def test_stored_decision_is_the_engines_snapshot_and_reads_back_as_simulate_prints(bill_setup, staff):
    from claims.services import bill_decide, bill_enter
    from yfbz.policy.inputs import bill_for_engine, decide_bill, person_for_engine
    from yfbz.rules.scenario import decision_json, scenario_row

    person, inst = bill_setup
    bill = bill_enter(
        user=staff["district_clerk"], person=person, institution=inst, kind="INPATIENT",
        settled_on=date(2025, 4, 9), total_cost=Decimal("15000.00"), in_policy_cost=Decimal("14000.00"),
        basic_paid=Decimal("9000.00"), critical_paid=Decimal("0.00"),
    )
    stored = bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    engine, _ = decide_bill(person_for_engine(person), bill_for_engine(bill), {})
    assert stored.snapshot == engine.to_dict()
    assert scenario_row(stored.snapshot) == decision_json(engine)
    assert scenario_row(stored.snapshot)["assistance"] == "4000.00"  # 5,000 self-pay x 80 % at level 2
    assert stored.layers == stored.snapshot["layers"]


def test_persons_for_engine_reads_many_people_at_once(db, make_person, django_assert_max_num_queries):
    from yfbz.policy.inputs import persons_for_engine

    people = [make_person(f"低保{i}", town="SLH", categories=("DIBAO",)) for i in range(5)]
    # identities, dated attributes, towns by date (docs/areas.md), people: one query each per 5,000 people
    with django_assert_max_num_queries(4):
        got = persons_for_engine([p.pk for p in people])
    assert sorted(got) == sorted(p.pk for p in people)
    one = got[people[0].pk]
    assert one.id_number == people[0].id_number and one.town == "SLH"
    assert [i.category for i in one.identities] == ["DIBAO"]
