"""Bad scenario files are refused with a Chinese message naming the entry and the field."""

import copy
import json
from pathlib import Path

import pytest

from yfbz.rules import default_book, default_policy
from yfbz.rules.scenario import ScenarioError, load_json, parse_scenario, run_scenario

SAMPLE = json.loads(
    (Path(__file__).resolve().parents[1] / "samples" / "scenario-example.json").read_text(encoding="utf-8")
)


def refuse(mutate):
    data = copy.deepcopy(SAMPLE)
    mutate(data)
    with pytest.raises(ScenarioError) as exc:
        run_scenario(parse_scenario(data, categories=default_policy().categories), default_book())
    return str(exc.value)


def test_bad_json_is_refused():
    with pytest.raises(ScenarioError, match="不是有效的JSON"):
        load_json("{persons: [}")


def test_missing_field_names_entry_and_field():
    assert refuse(lambda d: d["bills"][2].pop("in_policy_cost")).startswith(
        "bills[2].in_policy_cost: 缺少必填字段"
    )


def test_unknown_field_is_refused():
    assert refuse(lambda d: d["bills"][0].update(discount="1.00")).startswith("bills[0].discount: 未知字段")
    assert refuse(lambda d: d.update(extra=1)).startswith("extra: 未知字段")


def test_unknown_category_is_refused():
    msg = refuse(lambda d: d["persons"][1]["identities"][0].update(category="FOO"))
    assert msg.startswith("persons[1].identities[0].category: 未知的身份类别")


def test_unknown_institution_is_refused():
    assert refuse(lambda d: d["bills"][1].update(institution="XX")).startswith("bills[1].institution:")


def test_invalid_id_number_check_character_is_refused():
    msg = refuse(lambda d: d["persons"][0].update(id_number="500112196203150437"))
    assert msg.startswith("persons[0].id_number:") and "校验位" in msg


def test_bill_for_an_unknown_person_is_refused():
    assert refuse(lambda d: d["bills"][3].update(id_number="500112196203150437")).startswith(
        "bills[3].id_number:"
    )


def test_insurance_paying_more_than_the_in_policy_cost_is_refused():
    msg = refuse(lambda d: d["bills"][2].update(basic_paid="600.00", critical_paid="200.00"))
    assert msg.startswith("bills[2].basic_paid:") and "大于政策范围内费用" in msg


def test_in_policy_cost_above_total_cost_is_refused():
    assert refuse(lambda d: d["bills"][2].update(in_policy_cost="800.00")).startswith(
        "bills[2].in_policy_cost:"
    )


@pytest.mark.parametrize("value", ["-1.00", 12.5, "1.234", "abc", True])
def test_bad_amounts_are_refused(value):
    assert refuse(lambda d: d["bills"][0].update(total_cost=value)).startswith("bills[0].total_cost:")


@pytest.mark.parametrize("value", ["2025-02-30", "2025/01/01", 20250101, None])
def test_bad_dates_are_refused(value):
    assert refuse(lambda d: d["bills"][4].update(settled_on=value)).startswith("bills[4].settled_on:")


def test_admission_after_discharge_is_refused():
    assert refuse(lambda d: d["bills"][0].update(admitted_on="2025-05-01")).startswith(
        "bills[0].admitted_on:"
    )


def test_bad_kind_level_enrolment_and_duplicates_are_refused():
    assert refuse(lambda d: d["bills"][0].update(kind="DENTAL")).startswith("bills[0].kind:")
    assert refuse(lambda d: d["institutions"][0].update(level=4)).startswith("institutions[0].level:")
    assert refuse(lambda d: d["persons"][0]["enrolment"].update({"2025": "GOLD"})).startswith(
        "persons[0].enrolment.2025:"
    )
    assert refuse(lambda d: d["bills"][1].update(ref="E1")).startswith("bills[1].ref:")
    assert refuse(lambda d: d["persons"].append(copy.deepcopy(d["persons"][0]))).startswith(
        "persons[4].id_number:"
    )


def test_unknown_policy_section_is_refused():
    assert refuse(lambda d: d.update(policy={"rates": {}})).startswith("policy.rates:")


def test_policy_overrides_change_the_result():
    data = copy.deepcopy(SAMPLE)
    data["policy"] = {"contribution_standards": {"2025": {"T1": "380.00", "T2": "700.00"}}}
    out = run_scenario(parse_scenario(data, categories=default_policy().categories), default_book())
    assert [s["amount"] for s in out["subsidies"]] == ["380.00", "700.00", "266.00", "380.00"]


def test_a_scenario_may_use_a_category_it_introduces_in_its_own_policy():
    """Issue 10 item 7: before, the person's identity was refused as an unknown category."""
    from datetime import date

    from yfbz.rules import default_book
    from yfbz.rules.scenario import parse_scenario, run_scenario

    from .helpers import valid_id

    idn = valid_id(date(1950, 1, 1))
    data = {
        "policy": {
            "categories": [{"code": "JB_LAONIAN", "name": "江北高龄困难老人（示例）", "department": "CIVIL"}],
            "memberships": [{"category": "JB_LAONIAN", "group": "OUT_400"}],
        },
        "persons": [{"id_number": idn, "identities": [{"category": "JB_LAONIAN", "valid_from": "2025-01-01"}]}],
        "institutions": [{"code": "H1", "level": 1}],
        "bills": [{"ref": "B1", "id_number": idn, "institution": "H1", "kind": "OUTPATIENT", "settled_on": "2025-05-01",
                   "total_cost": "300.00", "in_policy_cost": "300.00", "basic_paid": "100.00"}],
    }
    book = default_book()
    scenario = parse_scenario(data, categories=book.in_force(date(2025, 1, 1)).categories)
    out = run_scenario(scenario, book)
    assert (out["bills"][0]["category"], out["bills"][0]["assistance"]) == ("JB_LAONIAN", "140.00")
