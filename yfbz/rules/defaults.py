"""The shipped policy defaults (POLICY.md), without a database.

``defaults.json`` is the one source of the shipped figures: the data migration of
``yfbz.policy`` loads it into the policy tables, and pure tests and the benchmark
read it through this module.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

from .policy import Policy, PolicyBook

DEFAULTS_PATH = Path(__file__).with_name("defaults.json")


@cache
def default_records() -> dict[str, list[dict]]:
    data = json.loads(DEFAULTS_PATH.read_text(encoding="utf-8"))
    data.pop("_comment", None)
    for section, recs in data.items():
        if section == "categories":
            for r in recs:
                r.setdefault("effective_from", "2025-01-01")
                r.setdefault("source", "渝北府办发〔2025〕2号 一")
                r.setdefault("status", "confirmed")
    return data


@cache
def default_book() -> PolicyBook:
    return PolicyBook(default_records())


def default_policy(on: date = date(2025, 6, 30)) -> Policy:
    return default_book().in_force(on)
