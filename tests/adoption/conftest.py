"""Running ``load_history`` as the administrator would, on the example scenario and variants of it."""

import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
EXAMPLE = SAMPLES / "scenario-example.json"

#: what the old system decided for the example's bills (scheme, identity, amounts), for --historic
OLD_SYSTEM = {
    "E1": {"scheme": "INPATIENT", "category": "TEKUN", "assistance": "4000.00"},
    "E2": {"scheme": "INPATIENT", "category": "TEKUN", "assistance": "6000.00"},
    "E3": {"scheme": "OUTPATIENT", "category": "BINGGU_YISHU", "assistance": "280.00", "youfu_subsidy": "60.00"},
    "E4": {"scheme": None, "category": None, "assistance": "0.00"},
    "E5": {"scheme": None, "category": None, "assistance": "0.00"},
}


def example() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def historic_example() -> dict:
    data = example()
    for b in data["bills"]:
        b.update(OLD_SYSTEM[b["ref"]])
    return data


def write(tmp_path, data, name="history.json") -> Path:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return p


@pytest.fixture
def load(staff):
    """load(path, historic=False, entered="district_clerk", approved="reviewer") -> (output dict, stderr text)."""

    def run(path, *, historic=False, entered="district_clerk", approved="reviewer"):
        out, err = StringIO(), StringIO()
        args = [str(path), "--entered-by", entered, "--approved-by", approved]
        if historic:
            args.append("--historic")
        call_command("load_history", *args, stdout=out, stderr=err)
        return json.loads(out.getvalue()), err.getvalue()

    return run


def simulate(path) -> dict:
    out = StringIO()
    call_command("simulate", str(path), stdout=out)
    return json.loads(out.getvalue())


def deep(data):
    return copy.deepcopy(data)
