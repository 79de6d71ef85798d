"""Bringing a year already under way into the database (docs/adoption.md, tests/samples/HISTORY.md).

``load_history(text, file_name=, entered_by=, approved_by=, historic=)`` reads a scenario file
(SCENARIO.md) and writes, in one transaction:

- people matched by ID number or created (in the town the file gives), with the file's identities
  added as *migrated* identities (``Identity.Source.MIGRATED``, ``source_ref`` naming the file);
- institutions missing from the reference data;
- the bills in file order: by default entered, decided and approved through ``claims.services``
  exactly as two members of staff would in the browser; with ``historic`` recorded as the old
  system decided them (``claims.services.bill_record_historic``: counted in caps and statistics,
  never paid).

A file ``simulate`` would refuse is refused with the same message before anything is written; the
checks that need the database (a bill already held, a new person without a name, the two staff
members) come next, still before anything is written. A file whose content was loaded before
writes nothing and gives the result of the first load, read back from the database.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from beneficiaries.models import Category, Identity, Person, Town
from beneficiaries.services import person_attribute_record_migrated
from claims.models import Bill, Decision, Institution, Scheme
from claims.services import ClaimsError, bill_decide, bill_enter, bill_record_historic, decision_approve
from yfbz.core.audit import audit_bulk
from yfbz.core.errors import OutsideArea
from yfbz.core.roles import Role
from yfbz.policy.selectors import policy_book
from yfbz.rules.idcard import parse_id_number
from yfbz.rules.money import fmt
from yfbz.rules.scenario import (
    PERSON_FIELDS,
    Scenario,
    ScenarioError,
    _amount,
    load_json,
    parse_scenario,
    ratio_str,
    run_scenario,
)

from .models import HistoryLoad, HistoryLoadBill

#: what --historic bills carry besides a scenario bill (HISTORY.md)
HISTORIC_FIELDS = ("scheme", "category", "assistance", "youfu_subsidy")
#: person attributes the database keeps (a scenario may name others: they could not be stored)
KNOWN_ATTRIBUTES = {"needs_maintenance_treatment"}
#: an attribute a scenario gives as plain true (no dates) holds from this day on
ALWAYS = date(1900, 1, 1)
HISTORIC_REASON = "原系统核定，按历史数据记录（计入年度限额和统计，本系统不再支付）"
PROVISIONAL_REASON = "审核人已核对暂行规则（历史数据导入，按--approved-by确认）"


class LoadError(Exception):
    """A load refused before anything was written (the command exits with status 2)."""


@dataclass
class LoadOutcome:
    load: HistoryLoad
    result: dict
    already_loaded: bool
    notes: list[str] = field(default_factory=list)


def content_hash(data: Any) -> str:
    """The file's identity: its JSON content, whatever the whitespace or indentation."""
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- reading and checking ----------------------------------------------------------------------
@dataclass
class _Checked:
    data: dict
    scenario: Scenario
    towns: dict[str, Town | None]  # id_number -> town
    historic: dict[int, dict]  # bill index -> {"scheme", "category", "assistance", "youfu_subsidy"}
    what_if: dict


def _town_lookup() -> dict[str, Town]:
    out = {}
    for t in Town.objects.all():
        out[t.code] = out[t.name] = t
        out.setdefault(t.short_name, t)
    return out


def _check_file(data: Any, *, historic: bool) -> _Checked:
    """Everything simulate checks (same messages), then the fields only a load uses. Raises ScenarioError."""
    book = policy_book()
    categories = book.in_force(date.today()).categories or book.in_force(date(2100, 1, 1)).categories
    stripped = copy.deepcopy(data)
    extra: dict[int, dict] = {}
    towns_raw: dict[int, Any] = {}
    if isinstance(stripped, dict):
        if historic and isinstance(stripped.get("bills"), list):
            for i, b in enumerate(stripped["bills"]):
                if isinstance(b, dict):
                    extra[i] = {k: b.pop(k) for k in HISTORIC_FIELDS if k in b}
        if "town" not in PERSON_FIELDS and isinstance(stripped.get("persons"), list):
            for i, p in enumerate(stripped["persons"]):
                if isinstance(p, dict) and "town" in p:
                    towns_raw[i] = p.pop("town")
    try:
        scenario = parse_scenario(stripped, categories=categories)
    except ScenarioError as exc:
        if not historic and exc.message == "未知字段" and exc.path.rsplit(".", 1)[-1] in HISTORIC_FIELDS:
            raise ScenarioError(exc.path, "未知字段（带原系统核定结果的文件须加 --historic 导入）") from None
        raise
    what_if = run_scenario(scenario, book)  # what simulate would print: refuses what simulate refuses

    lookup = _town_lookup()
    towns: dict[str, Town | None] = {}
    for i, p in enumerate(data["persons"]):
        raw = towns_raw.get(i, p.get("town"))
        idn = parse_id_number(p["id_number"]).number
        if raw is None:
            towns[idn] = None
            continue
        town = lookup.get(str(raw).strip())
        if town is None:
            raise ScenarioError(f"persons[{i}].town", f"未知的镇街：{raw!r}（应为镇街代码或名称）")
        towns[idn] = town
    for i, p in enumerate(data["persons"]):
        for k in (p.get("attributes") or {}):
            if k not in KNOWN_ATTRIBUTES:
                raise ScenarioError(f"persons[{i}].attributes.{k}", f"系统中没有此人员属性，无法保存：{k}")

    checked_hist: dict[int, dict] = {}
    if historic:
        for i, (pid, bill) in enumerate(scenario.bills):
            checked_hist[i] = _check_historic_bill(i, extra.get(i, {}), scenario.persons[pid], bill, categories)
    return _Checked(data, scenario, towns, checked_hist, what_if)


def _check_historic_bill(i: int, given: dict, person, bill, categories) -> dict:
    path = f"bills[{i}]"
    for k in ("scheme", "category", "assistance"):
        if k not in given:
            raise ScenarioError(f"{path}.{k}", "缺少必填字段（--historic 导入须给出原系统的核定结果）")
    scheme = given["scheme"]
    if scheme is not None and scheme not in Scheme.values:
        raise ScenarioError(f"{path}.scheme", f"未知的救助方案：{scheme!r}（可用：{', '.join(Scheme.values)}，或null）")
    category = given["category"]
    if category is not None and (not isinstance(category, str) or category not in categories):
        raise ScenarioError(f"{path}.category", f"未知的身份类别：{category!r}")
    assistance = _amount(given["assistance"], f"{path}.assistance")
    youfu = _amount(given.get("youfu_subsidy", "0.00"), f"{path}.youfu_subsidy")
    if scheme is None and assistance:
        raise ScenarioError(f"{path}.assistance", "scheme为null（未给予医疗救助）时救助金额应为0.00")
    if scheme is not None and category is None:
        raise ScenarioError(f"{path}.category", "给予医疗救助须写明所依据的身份类别")
    if category is not None and category not in person.categories_on(bill.settled_on) and not _held_in_database(
        person.id_number, category, bill.settled_on
    ):
        raise ScenarioError(f"{path}.category", f"该人员在结算日{bill.settled_on}不持有此身份：{category}")
    base = max(bill.in_policy_cost - bill.basic_paid - bill.critical_paid, Decimal("0.00"))
    if assistance + youfu > base:
        raise ScenarioError(
            f"{path}.assistance", f"救助{assistance}与优抚补助{youfu}之和大于政策范围内个人自付{base}"
        )
    return {"scheme": scheme, "category": category, "assistance": assistance, "youfu_subsidy": youfu}


def _held_in_database(id_number: str, category: str, on: date) -> bool:
    return Identity.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on), person__id_number=id_number, category__code=category,
        valid_from__lte=on,
    ).exists()


def _check_staff(entered_by, approved_by) -> None:
    if entered_by.pk == approved_by.pk:
        raise LoadError("录入人和审批人须为不同人员（经办与审核分离）。")
    for user, role, what in ((entered_by, Role.DISTRICT_CLERK, "录入人"), (approved_by, Role.DISTRICT_REVIEWER, "审批人")):
        if not user.is_active:
            raise LoadError(f"{what}{user.username}已停用。")
        if not user.has_role(role):
            raise LoadError(f"{what}{user.username}不是“{role.value}”，不能{what[:2]}票据。")


def _check_against_database(checked: _Checked) -> None:
    """Checks that need the database: a new person needs a name; a bill the database already holds
    (same person, institution, kind, dates and amounts) is not entered twice."""
    ids = list(checked.scenario.persons)
    known = dict(Person.objects.filter(id_number__in=ids).values_list("id_number", "pk"))
    for i, p in enumerate(checked.data["persons"]):
        idn = parse_id_number(p["id_number"]).number
        if idn not in known and not (p.get("name") or "").strip():
            raise ScenarioError(f"persons[{i}].name", "数据库中没有此人，新建人员须填写姓名")
    if not known:
        return
    held = set(
        Bill.objects.filter(person_id__in=known.values())
        .exclude(status=Bill.Status.ENTERED)
        .values_list("person__id_number", "institution__code", "kind", "admitted_on", "settled_on", "in_policy_cost",
                     "total_cost", "basic_paid", "pk")
        .iterator()
    ) if known else set()
    by_key = {h[:8]: h[8] for h in held}
    for i, (pid, b) in enumerate(checked.scenario.bills):
        inst = checked.data["bills"][i]["institution"]
        key = (pid, inst, str(b.kind), b.admitted_on, b.settled_on, b.in_policy_cost, b.total_cost, b.basic_paid)
        if key in by_key:
            raise ScenarioError(
                f"bills[{i}]", f"与已有票据{by_key[key]}相同（同一人员、医疗机构、日期和费用），可能已导入过，整个文件未导入"
            )


# --- writing -----------------------------------------------------------------------------------
def _covered(existing: list[Identity], category_id: int, vf: date, vt: date | None) -> bool:
    for e in existing:
        if e.category_id != category_id or e.valid_from > vf:
            continue
        if e.valid_to is None or (vt is not None and e.valid_to >= vt):
            return True
    return False


def _write(checked: _Checked, load: HistoryLoad, *, file_name: str, entered_by, approved_by, historic: bool) -> None:
    sc = checked.scenario
    cats = {c.code: c for c in Category.objects.all()}
    source_ref = f"原系统迁移：{file_name}"[:120]
    people: dict[str, Person] = {}
    for p in checked.data["persons"]:
        eng = sc.persons[parse_id_number(p["id_number"]).number]
        person = Person.objects.select_for_update().filter(id_number=eng.id_number).first()
        if person is None:
            idn = parse_id_number(eng.id_number)
            person = Person.objects.create(
                id_number=idn.number, name=eng.name.strip(), birth_date=idn.birth_date, sex=idn.sex,
                town=checked.towns.get(idn.number),
            )
            load.persons_created += 1
        else:
            load.persons_matched += 1
        # person attributes (需院外维持治疗): dated PersonAttribute rows, confirmed like migrated identities
        spans = [(a, ALWAYS, None) for a in sorted(eng.attributes)]
        spans += [(a.name, a.valid_from, a.valid_to) for a in eng.attribute_spans]
        for attribute, vf, vt in spans:
            if attribute in KNOWN_ATTRIBUTES:
                try:
                    person_attribute_record_migrated(
                        person=person, attribute=attribute, valid_from=vf, valid_to=vt, source=source_ref,
                        entered_by=entered_by, approved_by=approved_by,
                    )
                except ValidationError as exc:
                    raise ScenarioError(f"persons[{eng.id_number}].attributes.{attribute}", "；".join(exc.messages)) from None
        people[eng.id_number] = person
        existing = list(Identity.objects.filter(person=person))
        for ident in eng.identities:
            cat = cats[ident.category]
            if _covered(existing, cat.pk, ident.valid_from, ident.valid_to):
                load.identities_skipped += 1
                continue
            existing.append(
                Identity.objects.create(
                    person=person, category=cat, valid_from=ident.valid_from, valid_to=ident.valid_to,
                    source=Identity.Source.MIGRATED, source_ref=source_ref,
                )
            )
            load.identities_added += 1

    institutions: dict[str, Institution] = {}
    for inst in checked.data["institutions"]:
        code = inst["code"].strip()
        obj = Institution.objects.filter(code=code).first()
        if obj is None:
            obj = Institution.objects.create(code=code, name=(inst.get("name") or code).strip()[:120], level=inst["level"])
            load.institutions_created += 1
        institutions[code] = obj

    for i, (pid, b) in enumerate(sc.bills):
        raw = checked.data["bills"][i]
        fields = dict(
            person=people[pid], institution=institutions[raw["institution"].strip()], kind=str(b.kind),
            disease=b.disease or "", admitted_on=b.admitted_on, settled_on=b.settled_on, total_cost=b.total_cost,
            in_policy_cost=b.in_policy_cost, basic_paid=b.basic_paid, critical_paid=b.critical_paid,
        )
        note = f"原系统票据{b.ref}（{file_name}）"
        try:
            if historic:
                h = checked.historic[i]
                d = bill_record_historic(
                    entered_by=entered_by, approved_by=approved_by, scheme=h["scheme"], category=h["category"],
                    assistance=h["assistance"], youfu_subsidy=h["youfu_subsidy"], source=note, **fields,
                )
                bill_id = d.bill_id
            else:
                bill = bill_enter(user=entered_by, note=note, **fields)
                d = bill_decide(bill_id=bill.pk, user=entered_by)
                decision_approve(
                    bill_id=bill.pk, user=approved_by, confirm_provisional=d.provisional,
                    note="历史数据导入：按原系统记录审批" + ("，已核对暂行规则" if d.provisional else ""),
                )
                bill_id = bill.pk
        except ClaimsError as exc:
            raise ScenarioError(f"bills[{i}]", str(exc)) from None
        except OutsideArea as exc:
            # a bill of an arriving town from before it arrived: the other district decided it (docs/areas.md)
            raise ScenarioError(f"bills[{i}]", f"{exc}（划入前由原属区核定的票据，请用 --historic 按原系统核定结果导入）") from None
        HistoryLoadBill.objects.create(load=load, position=i, ref=b.ref, bill_id=bill_id)
        load.bills += 1
    load.save()
    audit_bulk(
        actor=entered_by,
        what="原系统历史数据导入",
        obj=load,
        summary={
            "文件": file_name, "方式": "原系统核定结果（不再支付）" if historic else "本系统核定并审批",
            "录入人": entered_by, "审批人": approved_by, "新建人员": load.persons_created,
            "已有人员": load.persons_matched, "迁移身份": load.identities_added,
            "已有身份未重复添加": load.identities_skipped, "新建医疗机构": load.institutions_created,
            "票据": load.bills,
        },
    )


# --- the output, read back from the database ---------------------------------------------------
def decision_row(ref: str, d: Decision) -> dict:
    """One bill of simulate's output (SCENARIO.md) from a stored decision."""
    from yfbz.rules.codes import Reason

    row = {
        "ref": ref,
        "scheme": d.scheme or None,
        "category": d.category or None,
        "ratio": ratio_str(d.ratio),
        "base": fmt(d.base),
        "assistance": fmt(d.assistance),
        "cap_left": fmt(d.cap_left_after),
        "youfu_subsidy": fmt(d.youfu_subsidy),
        "reasons": [Reason(r).label for r in d.reasons],
        "closest_scheme": None,
        "provisional": list(d.provisional_sources),
        "policy_version": d.policy_version,
    }
    snapshot = getattr(d, "snapshot", None)
    if snapshot:
        from yfbz.rules.scenario import scenario_row

        row = scenario_row(snapshot) | {"ref": ref}
    if d.historic:
        row["reasons"] = [HISTORIC_REASON]
    elif d.provisional_confirmed:
        row["reasons"] = [*row["reasons"], PROVISIONAL_REASON]
    return row


def result_of(load: HistoryLoad) -> dict:
    rows = HistoryLoadBill.objects.filter(load=load).order_by("position").select_related("bill")
    current = {
        d.bill_id: d for d in Decision.objects.filter(bill__history_load__load=load, is_current=True)
    }
    bills = []
    for r in rows:
        d = current.get(r.bill_id)
        bills.append(decision_row(r.ref, d) if d else {"ref": r.ref, "scheme": None, "assistance": "0.00",
                                                       "reasons": ["该票据当前没有有效的核定（已退回修改）"]})
    return {"bills": bills, "subsidies": []}


def _notes(checked: _Checked) -> list[str]:
    notes = []
    data = checked.data
    if data.get("policy"):
        notes.append("文件中的policy项已忽略：按数据库中的政策数据执行。")
    if data.get("subsidy_years"):
        notes.append("文件中的subsidy_years项已忽略：资助参保请在资助参保页面按年度计算。")
    for i, inst in enumerate(data["institutions"]):
        obj = Institution.objects.filter(code=inst["code"].strip()).first()
        if obj is not None and obj.level != inst["level"]:
            notes.append(
                f"institutions[{i}]：系统中{obj.code}为{obj.get_level_display()}，文件为{inst['level']}级，按系统中的等级核定。"
            )
    for i, p in enumerate(data["persons"]):
        idn = parse_id_number(p["id_number"]).number
        person = Person.objects.filter(id_number=idn).only("name").first()
        if person is not None and p.get("name") and person.name != p["name"].strip():
            notes.append(f"persons[{i}]：系统中此人姓名为{person.name}，文件为{p['name']}，保留系统中的姓名。")
    return notes


# --- the one entry point -----------------------------------------------------------------------
def load_history(text: str, *, file_name: str, entered_by, approved_by, historic: bool) -> LoadOutcome:
    """Load a history file. Raises ScenarioError (a bad file, path and message as simulate) or
    LoadError (wrong staff, loaded before in the other mode); nothing is written then."""
    data = load_json(text)
    checked = _check_file(data, historic=historic)
    sha = content_hash(data)
    previous = HistoryLoad.objects.filter(sha256=sha).first()
    if previous is not None:
        return _again(previous, historic)
    _check_staff(entered_by, approved_by)
    _check_against_database(checked)
    notes = _notes(checked)
    try:
        with transaction.atomic():
            load = HistoryLoad.objects.create(
                file_name=file_name[:200], sha256=sha, historic=historic, entered_by=entered_by, approved_by=approved_by
            )
            _write(checked, load, file_name=file_name, entered_by=entered_by, approved_by=approved_by, historic=historic)
    except IntegrityError:
        # the same file loaded at the same moment by someone else: theirs stands, nothing of ours was written
        previous = HistoryLoad.objects.filter(sha256=sha).first()
        if previous is None:
            raise
        return _again(previous, historic)
    result = result_of(load)
    notes += _differences(checked.what_if, result)
    return LoadOutcome(load, result, already_loaded=False, notes=notes)


def _again(previous: HistoryLoad, historic: bool) -> LoadOutcome:
    if previous.historic != historic:
        mode = "原系统核定结果（--historic）" if previous.historic else "本系统核定"
        raise LoadError(
            f"该文件已于{timezone.localtime(previous.loaded_at):%Y-%m-%d %H:%M}按“{mode}”方式导入，不能再按另一种方式导入；本次未写入任何数据。"
        )
    note = (
        f"该文件已于{timezone.localtime(previous.loaded_at):%Y-%m-%d %H:%M}导入（{previous.file_name}），本次未写入任何数据；"
        "以下为数据库中的结果。"
    )
    return LoadOutcome(previous, result_of(previous), already_loaded=True, notes=[note])


def _differences(what_if: dict, result: dict) -> list[str]:
    """Where the stored decisions differ from the what-if run of the same file (e.g. the person already
    used part of a cap in the database, or an institution's level differs): said, never hidden."""
    out = []
    sim = {b["ref"]: b for b in what_if["bills"]}
    for b in result["bills"]:
        s = sim.get(b["ref"])
        if s is None or b.get("reasons") == [HISTORIC_REASON]:
            continue
        for k in ("scheme", "assistance", "cap_left", "youfu_subsidy"):
            if s.get(k) != b.get(k):
                out.append(f"{b['ref']}：{k}与模拟结果不同（数据库{b.get(k)}，模拟{s.get(k)}），因数据库中已有的记录。")
    return out


__all__ = ["LoadError", "LoadOutcome", "ScenarioError", "content_hash", "load_history", "result_of", "decision_row"]
