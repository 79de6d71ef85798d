"""tests/samples/scenario-example.json gives scenario-example.expected.json, field for field."""

import json
from pathlib import Path

from yfbz.rules import default_book, default_policy
from yfbz.rules.scenario import parse_scenario, run_scenario

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def expected():
    return json.loads((SAMPLES / "scenario-example.expected.json").read_text(encoding="utf-8"))


def assert_matches_expected(result: dict) -> None:
    exp = expected()
    assert [b["ref"] for b in result["bills"]] == [b["ref"] for b in exp["bills"]]
    for got, want in zip(result["bills"], exp["bills"], strict=True):
        for field, value in want.items():
            if field == "note":
                continue
            assert got[field] == value, (want["ref"], field, got[field], value)
    assert len(result["subsidies"]) == len(exp["subsidies"])
    for got, want in zip(result["subsidies"], exp["subsidies"], strict=True):
        for field, value in want.items():
            assert got[field] == value, (want["id_number"], field, got[field], value)


def test_scenario_example_gives_expected_field_for_field_through_the_pure_engine():
    data = json.loads((SAMPLES / "scenario-example.json").read_text(encoding="utf-8"))
    scenario = parse_scenario(data, categories=default_policy().categories)
    assert_matches_expected(run_scenario(scenario, default_book()))


def test_every_amount_in_the_output_is_a_two_decimal_string():
    data = json.loads((SAMPLES / "scenario-example.json").read_text(encoding="utf-8"))
    out = run_scenario(parse_scenario(data, categories=default_policy().categories), default_book())
    for b in out["bills"]:
        for f in ("base", "assistance", "youfu_subsidy"):
            assert isinstance(b[f], str) and len(b[f].split(".")[1]) == 2
    for s in out["subsidies"]:
        assert len(s["amount"].split(".")[1]) == 2
