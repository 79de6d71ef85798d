"""What-if scenarios (SCENARIO.md): parse and check a scenario file, run it through the engine.

Pure; the ``simulate`` management command adds only the policy records from the database.
Every refusal names the entry and the field, e.g. ``bills[2].in_policy_cost: ...``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .codes import BillKind, Enrolment, Reason
from .engine import AttributeSpan, Bill, CapLedger, Decision, Identity, Person
from .idcard import IdNumberError, parse_id_number
from .money import fmt
from .policy import SECTIONS, PolicyBook, PolicyError
from .subsidy import SubsidyDecision, contribution_subsidy

TOP_FIELDS = {"policy": False, "persons": True, "institutions": True, "bills": True, "subsidy_years": False}
PERSON_FIELDS = {
    "id_number": True,
    "name": False,
    "identities": True,
    "attributes": False,
    "enrolment": False,
    "town": False,
}
IDENTITY_FIELDS = {"category": True, "valid_from": True, "valid_to": False}
IDENTITY_FIELDS_NO_CATEGORY = {"valid_from": True, "valid_to": False}
INSTITUTION_FIELDS = {"code": True, "name": False, "level": True, "designated": False}
BILL_FIELDS = {
    "ref": True,
    "id_number": True,
    "institution": True,
    "kind": True,
    "disease": False,
    "admitted_on": False,
    "settled_on": True,
    "total_cost": True,
    "in_policy_cost": True,
    "basic_paid": True,
    "critical_paid": False,
}
_AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")


class ScenarioError(ValueError):
    """A scenario file that cannot be run. ``path`` names the entry and field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


@dataclass(frozen=True, slots=True)
class Scenario:
    policy: Mapping[str, Any]
    persons: dict[str, Person]
    enrolment: dict[str, dict[int, str]]
    levels: dict[str, int]
    designated: dict[str, bool]
    bills: tuple[tuple[str, Bill], ...]  # (id_number, bill) in settlement order
    subsidy_years: tuple[int, ...]


def _fields(obj: Any, spec: Mapping[str, bool], path: str) -> dict:
    if not isinstance(obj, dict):
        raise ScenarioError(path, "应为JSON对象")
    for k in obj:
        if k not in spec:
            raise ScenarioError(f"{path}.{k}" if path else k, "未知字段")
    for k, required in spec.items():
        if required and k not in obj:
            raise ScenarioError(f"{path}.{k}" if path else k, "缺少必填字段")
    return obj


def _list(obj: Any, path: str) -> list:
    if not isinstance(obj, list):
        raise ScenarioError(path, "应为JSON数组")
    return obj


def _str(v: Any, path: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ScenarioError(path, "应为非空字符串")
    return v.strip()


def _date(v: Any, path: str, *, nullable: bool = False) -> date | None:
    if v is None and nullable:
        return None
    if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        raise ScenarioError(path, f"日期格式错误（应为YYYY-MM-DD）：{v!r}")
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise ScenarioError(path, f"日期无效：{v!r}") from None


def _amount(v: Any, path: str) -> Decimal:
    if isinstance(v, bool) or isinstance(v, float):
        raise ScenarioError(path, f'金额应写成字符串（如"12.50"），不能用小数：{v!r}')
    if isinstance(v, int):
        v = str(v)
    if not isinstance(v, str) or not _AMOUNT.fullmatch(v.strip()):
        raise ScenarioError(path, f"金额格式错误（最多两位小数）：{v!r}")
    try:
        d = Decimal(v.strip())
    except InvalidOperation:
        raise ScenarioError(path, f"金额格式错误：{v!r}") from None
    if d < 0:
        raise ScenarioError(path, f"金额不能为负数：{v}")
    return d.quantize(Decimal("0.01"))


def _year(v: Any, path: str) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str) or not re.fullmatch(r"\d{4}", v) or not 1990 <= int(v) <= 2100:
        raise ScenarioError(path, f"年度应为四位年份：{v!r}")
    return int(v)


def parse_scenario(data: Any, *, categories: Mapping[str, str]) -> Scenario:
    """Check a decoded scenario and turn it into engine values. Raises ScenarioError."""
    _fields(data, TOP_FIELDS, "")
    policy = data.get("policy") or {}
    if not isinstance(policy, dict):
        raise ScenarioError("policy", "应为JSON对象")
    for k in policy:
        if k not in SECTIONS:
            raise ScenarioError(f"policy.{k}", f"未知的政策数据项（可用：{', '.join(SECTIONS)}）")
    # a category the scenario introduces in its own policy overrides is a known category
    categories = dict(categories)
    own = policy.get("categories") or []
    if not isinstance(own, list):
        raise ScenarioError("policy.categories", "应为JSON数组")
    for i, rec in enumerate(own):
        code = rec.get("code") if isinstance(rec, dict) else None
        if not isinstance(code, str) or not code.strip():
            raise ScenarioError(f"policy.categories[{i}].code", "应为身份类别代码")
        if rec.get("active", True):
            categories[code.strip()] = str(rec.get("name") or code)

    persons: dict[str, Person] = {}
    enrolment: dict[str, dict[int, str]] = {}
    for i, p in enumerate(_list(data["persons"], "persons")):
        path = f"persons[{i}]"
        _fields(p, PERSON_FIELDS, path)
        raw_id = p["id_number"]
        if not isinstance(raw_id, str):
            raise ScenarioError(f"{path}.id_number", "身份证号码应为字符串")
        try:
            idn = parse_id_number(raw_id)
        except IdNumberError as exc:
            raise ScenarioError(f"{path}.id_number", f"{exc}：{raw_id}") from None
        if idn.number in persons:
            raise ScenarioError(f"{path}.id_number", f"身份证号码重复：{idn.number}")
        idents = []
        for j, ident in enumerate(_list(p["identities"], f"{path}.identities")):
            ip = f"{path}.identities[{j}]"
            _fields(ident, IDENTITY_FIELDS, ip)
            cat = ident["category"]
            if not isinstance(cat, str) or cat not in categories:
                raise ScenarioError(f"{ip}.category", f"未知的身份类别：{cat!r}")
            vf = _date(ident["valid_from"], f"{ip}.valid_from")
            vt = _date(ident.get("valid_to"), f"{ip}.valid_to", nullable=True)
            if vt is not None and vt < vf:
                raise ScenarioError(f"{ip}.valid_to", "终止日期早于起始日期")
            idents.append(Identity(cat, vf, vt))
        attrs = p.get("attributes") or {}
        if not isinstance(attrs, dict):
            raise ScenarioError(f"{path}.attributes", "应为JSON对象")
        always: set[str] = set()
        spans: list[AttributeSpan] = []
        for k, v in attrs.items():
            ap = f"{path}.attributes.{k}"
            if isinstance(v, bool):
                if v:
                    always.add(k)
                continue
            if not isinstance(v, list):
                raise ScenarioError(ap, '应为true、false或起止日期列表（如[{"valid_from": "2025-07-01"}]）')
            for j, span in enumerate(v):
                sp = f"{ap}[{j}]"
                _fields(span, IDENTITY_FIELDS_NO_CATEGORY, sp)
                sf = _date(span["valid_from"], f"{sp}.valid_from")
                st = _date(span.get("valid_to"), f"{sp}.valid_to", nullable=True)
                if st is not None and st < sf:
                    raise ScenarioError(f"{sp}.valid_to", "终止日期早于起始日期")
                spans.append(AttributeSpan(k, sf, st))
        enr = p.get("enrolment") or {}
        if not isinstance(enr, dict):
            raise ScenarioError(f"{path}.enrolment", "应为JSON对象（年度→参保方式）")
        years: dict[int, str] = {}
        for y, e in enr.items():
            yy = _year(y, f"{path}.enrolment.{y}")
            if e not in Enrolment.__members__:
                raise ScenarioError(
                    f"{path}.enrolment.{y}", f"未知的参保方式：{e!r}（可用：{', '.join(Enrolment)}）"
                )
            years[yy] = e
        name = p.get("name") or ""
        if not isinstance(name, str):
            raise ScenarioError(f"{path}.name", "应为字符串")
        town = p.get("town")
        if town is not None and (not isinstance(town, str) or not town.strip()):
            raise ScenarioError(f"{path}.town", "应为镇街代码或名称")
        persons[idn.number] = Person(
            idn.number,
            idn.birth_date,
            tuple(idents),
            frozenset(always),
            name,
            town.strip() if town else None,
            tuple(spans),
        )
        enrolment[idn.number] = years

    levels: dict[str, int] = {}
    designated: dict[str, bool] = {}
    for i, inst in enumerate(_list(data["institutions"], "institutions")):
        path = f"institutions[{i}]"
        _fields(inst, INSTITUTION_FIELDS, path)
        code = _str(inst["code"], f"{path}.code")
        if code in levels:
            raise ScenarioError(f"{path}.code", f"医疗机构编码重复：{code}")
        lvl = inst["level"]
        if isinstance(lvl, bool) or lvl not in (0, 1, 2, 3):
            raise ScenarioError(f"{path}.level", f"医疗机构等级应为0（未定级）、1、2或3：{lvl!r}")
        levels[code] = lvl
        des = inst.get("designated", True)
        if not isinstance(des, bool):
            raise ScenarioError(f"{path}.designated", f"应为true（定点医疗机构）或false：{des!r}")
        designated[code] = des

    bills: list[tuple[str, Bill]] = []
    refs: set[str] = set()
    for i, b in enumerate(_list(data["bills"], "bills")):
        path = f"bills[{i}]"
        _fields(b, BILL_FIELDS, path)
        ref = _str(b["ref"], f"{path}.ref")
        if ref in refs:
            raise ScenarioError(f"{path}.ref", f"票据编号重复：{ref}")
        refs.add(ref)
        raw_id = b["id_number"]
        pid = raw_id.strip().upper() if isinstance(raw_id, str) else raw_id
        if isinstance(pid, str) and len(pid) == 15:
            try:
                pid = parse_id_number(pid).number  # a legacy number names the same person
            except IdNumberError:
                pass
        if pid not in persons:
            raise ScenarioError(f"{path}.id_number", f"persons中没有此人：{raw_id!r}")
        inst = b["institution"]
        if not isinstance(inst, str) or inst not in levels:
            raise ScenarioError(f"{path}.institution", f"institutions中没有此医疗机构：{inst!r}")
        kind = b["kind"]
        if kind not in BillKind.__members__:
            raise ScenarioError(f"{path}.kind", f"应为INPATIENT或OUTPATIENT：{kind!r}")
        disease = b.get("disease")
        if disease is not None and (not isinstance(disease, str) or not disease.strip()):
            raise ScenarioError(f"{path}.disease", "应为疾病名称或null")
        settled = _date(b["settled_on"], f"{path}.settled_on")
        admitted = _date(b.get("admitted_on"), f"{path}.admitted_on", nullable=True)
        if admitted is not None:
            if kind != BillKind.INPATIENT:
                raise ScenarioError(f"{path}.admitted_on", "门诊票据不应有入院日期")
            if admitted > settled:
                raise ScenarioError(f"{path}.admitted_on", "入院日期晚于结算（出院）日期")
        total = _amount(b["total_cost"], f"{path}.total_cost")
        inpol = _amount(b["in_policy_cost"], f"{path}.in_policy_cost")
        basic = _amount(b["basic_paid"], f"{path}.basic_paid")
        crit = _amount(b.get("critical_paid", "0.00"), f"{path}.critical_paid")
        if inpol > total:
            raise ScenarioError(f"{path}.in_policy_cost", f"政策范围内费用{inpol}大于总费用{total}")
        if basic + crit > inpol:
            raise ScenarioError(
                f"{path}.basic_paid", f"基本医保{basic}与大病保险{crit}之和大于政策范围内费用{inpol}"
            )
        bills.append(
            (
                pid,
                Bill(
                    BillKind(kind),
                    settled,
                    levels[inst],
                    inpol,
                    basic,
                    crit,
                    disease.strip() if disease else None,
                    total,
                    admitted,
                    ref,
                    designated[inst],
                ),
            )
        )

    years_raw = data.get("subsidy_years") or []
    sy = tuple(_year(y, f"subsidy_years[{i}]") for i, y in enumerate(_list(years_raw, "subsidy_years")))
    return Scenario(policy, persons, enrolment, levels, designated, tuple(bills), sy)


def ratio_str(r: Decimal | None) -> str | None:
    if r is None:
        return None
    q = r.quantize(Decimal("0.01"))
    return str(q) if q == r else str(r.normalize())


def scenario_row(snapshot: Mapping[str, Any]) -> dict:
    """One bill of simulate's output from a decision snapshot (``Decision.to_dict()``, the form a
    decision is stored in): the what-if path and every path that reads stored decisions back
    (load_history) print the same thing from the same snapshot."""
    ratio = snapshot.get("ratio")
    return {
        "ref": snapshot["bill_ref"],
        "scheme": snapshot["scheme"],
        "category": snapshot["category"],
        "ratio": None if ratio is None else ratio_str(Decimal(ratio)),
        "base": snapshot["base"],
        "assistance": snapshot["amount"],
        "cap_left": snapshot["cap_left_after"],
        "youfu_subsidy": snapshot["youfu"]["amount"],
        "reasons": [Reason(r).label for r in snapshot["reasons"]],
        "closest_scheme": snapshot["closest_scheme"],
        "provisional": [ref["source"] for ref in snapshot["provisional"]],
        "policy_version": snapshot["policy_version"],
    }


def decision_json(d: Decision) -> dict:
    return scenario_row(d.to_dict())


def subsidy_json(s: SubsidyDecision) -> dict:
    return {
        "id_number": s.id_number,
        "year": str(s.year),
        "enrolment": s.enrolment,
        "category": s.category,
        "amount": fmt(s.amount),
        "reasons": [r.label for r in s.reasons],
        "provisional": [ref.source for ref in s.provisional],
        "policy_version": s.policy_version,
    }


def run_scenario(scenario: Scenario, book: PolicyBook) -> dict:
    """Run the bills in order (each sees what the earlier ones used of every cap), then the subsidies."""
    if scenario.policy:
        try:
            book = book.with_overrides(scenario.policy)
        except (PolicyError, KeyError, TypeError, ValueError) as exc:
            raise ScenarioError("policy", f"政策数据无效：{exc}") from None
    ledger = CapLedger()
    out_bills = []
    for i, (pid, bill) in enumerate(scenario.bills):
        person = scenario.persons[pid]
        try:
            policy = book.in_force(bill.settled_on, town=person.town)
        except PolicyError as exc:
            raise ScenarioError(
                f"bills[{i}].settled_on" if not scenario.policy else "policy", f"政策数据无效：{exc}"
            ) from None
        out_bills.append(decision_json(ledger.adjudicate(policy, person, bill)))
    out_subs = []
    for pid, person in scenario.persons.items():
        for y in scenario.subsidy_years:
            policy = book.in_force(date(y, 12, 31), town=person.town)
            out_subs.append(
                subsidy_json(contribution_subsidy(policy, person, y, scenario.enrolment[pid].get(y)))
            )
    return {"bills": out_bills, "subsidies": out_subs}


def load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError("", f"不是有效的JSON（第{exc.lineno}行第{exc.colno}列）：{exc.msg}") from None
