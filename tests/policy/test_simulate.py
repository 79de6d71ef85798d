"""``manage.py simulate FILE.json`` on a freshly migrated database (shipped defaults only)."""

import copy
import json
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.rules.test_scenario_example import assert_matches_expected
from yfbz.policy.models import RECORD_MODELS, YoufuRule

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def simulate(path) -> dict:
    out = StringIO()
    call_command("simulate", str(path), stdout=out)
    return json.loads(out.getvalue())


def test_simulate_gives_the_expected_example_field_for_field():
    assert_matches_expected(simulate(SAMPLES / "scenario-example.json"))


def test_simulate_writes_nothing():
    counts = [m.objects.count() for m in RECORD_MODELS]
    simulate(SAMPLES / "scenario-example.json")
    assert counts == [m.objects.count() for m in RECORD_MODELS]


def test_simulate_uses_the_policy_rows_of_the_database():
    YoufuRule.objects.create(
        ratio=Decimal("0.50"),
        threshold=Decimal("0"),
        annual_cap=Decimal("1000"),
        effective_from=date(2025, 2, 1),
        source="示例限额（演示用）",
        status="provisional",
    )
    out = simulate(SAMPLES / "scenario-example.json")
    e3 = next(b for b in out["bills"] if b["ref"] == "E3")
    assert e3["youfu_subsidy"] == "60.00"  # (400 - 280) x 50%
    assert e3["provisional"] == ["示例限额（演示用）"]


def _write(tmp_path, data) -> Path:
    p = tmp_path / "s.json"
    p.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return p


def test_a_bad_file_is_refused_with_entry_and_field_and_exit_status_2(tmp_path):
    data = json.loads((SAMPLES / "scenario-example.json").read_text(encoding="utf-8"))
    bad = copy.deepcopy(data)
    bad["bills"][2]["in_policy_cost"] = "800.00"
    with pytest.raises(CommandError) as exc:
        simulate(_write(tmp_path, bad))
    assert exc.value.returncode == 2 and "bills[2].in_policy_cost" in str(exc.value)


@pytest.mark.parametrize("text", ["{not json", "[]", '{"persons": [], "institutions": []}'])
def test_malformed_files_are_refused_with_exit_status_2(tmp_path, text):
    with pytest.raises(CommandError) as exc:
        simulate(_write(tmp_path, text))
    assert exc.value.returncode == 2


def test_a_missing_file_is_refused_with_exit_status_2(tmp_path):
    with pytest.raises(CommandError) as exc:
        simulate(tmp_path / "nope.json")
    assert exc.value.returncode == 2
