"""The policy in force, as plain values.

Policy data is a set of *records* (one list per section, as in ``defaults.json``
and in the ``policy`` database tables). Each record has a natural key, an
``effective_from`` date, a ``source`` document, a ``status`` (confirmed /
provisional) and ``active``. The policy in force on a date takes, for every key,
the latest record whose ``effective_from`` is on or before the date, and drops it
if that record is inactive (that is how a catalogue disease is removed).
``build_policy`` does that selection; ``PolicyBook`` caches one built policy per
interval between effective dates, for bulk use.

The code knows the shapes of the rules; every figure comes from the records.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .codes import YOUFU, Enrolment, Scheme, Status, group_scheme

SECTIONS = (
    "categories",
    "category_conditions",
    "parameters",
    "memberships",
    "scheme_rules",
    "catalogue",
    "contribution_standards",
    "subsidy_rules",
    "youfu_rules",
    "employee_pooling",
)

#: Natural key of a record in each section (records with the same key supersede each other by date).
SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "categories": ("code",),
    "category_conditions": ("category",),
    "parameters": ("key",),
    "memberships": ("category", "group"),
    "scheme_rules": ("scheme", "group", "category"),
    "catalogue": ("name",),
    "contribution_standards": ("year", "category"),
    "subsidy_rules": ("group", "enrolment"),
    "youfu_rules": ("category",),
    "employee_pooling": ("employment",),
}

PARAMETER_KEYS = {
    "LARGE_EXPENSE_MIN_COST": "大额费用救助：单次住院政策范围内费用起点（超过该数）",
    "LARGE_EXPENSE_MIN_LEVEL": "大额费用救助：医疗机构最低等级",
    "UNGRADED_LEVEL": "未定级医疗机构视同的等级（D5）",
    "MAJOR_DISEASE_DESIGNATED_ONLY": "重特大疾病医疗救助：仅限定点医疗机构（1=是，0=否）",
}
PARAMETER_DEFAULTS = {
    "LARGE_EXPENSE_MIN_COST": "30000.00",
    "LARGE_EXPENSE_MIN_LEVEL": "2",
    "UNGRADED_LEVEL": "1",
    "MAJOR_DISEASE_DESIGNATED_ONLY": "0",
}


class PolicyError(ValueError):
    """Policy records that cannot form a policy."""


def _d(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise PolicyError("policy figures must not be floats")
    return Decimal(str(value))


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True, slots=True)
class RuleRef:
    """What a decision cites: which rule, from which document, confirmed or provisional."""

    section: str
    key: str
    source: str
    status: str
    effective_from: date

    @property
    def provisional(self) -> bool:
        return self.status == Status.PROVISIONAL


@dataclass(frozen=True, slots=True)
class CategoryCondition:
    """An age condition of an identity category, evaluated on the date the rule is applied
    (POLICY.md §3): 60周岁以上农村籍退役人员 holds only from the 60th birthday (52号 第二条).
    ``min_age``: full years reached (周岁以上, inclusive); ``max_age``: under that age (未满)."""

    category: str
    min_age: int | None
    max_age: int | None
    ref: RuleRef

    def met_at(self, age: int | None) -> bool:
        if age is None:
            return False  # no birth date: the condition cannot be shown to hold
        return (self.min_age is None or age >= self.min_age) and (self.max_age is None or age < self.max_age)

    def window(self, birth: date | None) -> tuple[date, date] | None:
        """The days on which the condition holds (first, last), or None without a birth date."""
        if birth is None:
            return None
        first = date.min if self.min_age is None else _birthday(birth, self.min_age)
        last = date.max if self.max_age is None else date.fromordinal(_birthday(birth, self.max_age).toordinal() - 1)
        return first, last

    def describe_zh(self) -> str:
        return age_condition_zh(self.min_age, self.max_age)


def age_condition_zh(min_age: int | None, max_age: int | None) -> str:
    """'年满60周岁', '未满18周岁', '年满6周岁、未满18周岁' ('' when neither)."""
    parts = []
    if min_age is not None:
        parts.append(f"年满{min_age}周岁")
    if max_age is not None:
        parts.append(f"未满{max_age}周岁")
    return "、".join(parts)


def _birthday(birth: date, years: int) -> date:
    """The day on which a person born on ``birth`` reaches ``years`` full years (29 February → 1 March)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 3, 1)


@dataclass(frozen=True, slots=True)
class Membership:
    """Category -> group, with an optional any-of condition evaluated on the date the rule is applied.

    ``otherwise``: applies only when no other membership of the same category into a group of the
    same scheme applies (DIBAO: OUT_700 if qualified, else OUT_400).
    """

    category: str
    group: str
    min_age: int | None = None
    also_holds: str | None = None
    attribute: str | None = None
    otherwise: bool = False
    ref: RuleRef | None = None

    @property
    def conditional(self) -> bool:
        return self.min_age is not None or self.also_holds is not None or self.attribute is not None


@dataclass(frozen=True, slots=True)
class SchemeRule:
    scheme: Scheme
    group: str
    category: str | None
    ratios: tuple[Decimal, Decimal, Decimal]  # levels 1, 2, 3
    annual_cap: Decimal
    ref: RuleRef

    def ratio_for(self, level: int) -> Decimal:
        return self.ratios[min(max(level, 1), 3) - 1]


@dataclass(frozen=True, slots=True)
class ContributionStandard:
    year: int
    category: str | None
    t1: Decimal
    t2: Decimal
    ref: RuleRef


@dataclass(frozen=True, slots=True)
class SubsidyRule:
    group: str
    enrolment: Enrolment
    standard: str  # "T1" or "T2"
    share: Decimal
    ref: RuleRef


@dataclass(frozen=True, slots=True)
class YoufuRule:
    category: str | None
    ratio: Decimal
    threshold: Decimal  # per bill: what remains above it is subsidised
    annual_cap: Decimal | None  # None: no cap entered -> the scheme is inactive (POLICY.md §9)
    ref: RuleRef
    # 晋退役军人规〔2024〕2号 第八条: only inpatient costs; only the part of the year's remaining
    # self-pay above an annual threshold (个人负担较重部分). Shipped: neither (today's behaviour).
    inpatient_only: bool = False
    annual_threshold: Decimal = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class PoolingRule:
    employment: str  # IN_SERVICE / RETIRED
    deductible: Decimal
    ratios: tuple[Decimal, Decimal, Decimal]
    limit_tier2: Decimal
    limit_tier1: Decimal
    account_base_share: Decimal | None
    account_monthly: Decimal | None
    account_monthly_elder: Decimal | None
    elder_age: int | None
    ref: RuleRef


def _ref(section: str, rec: Mapping[str, Any]) -> RuleRef:
    key = "/".join("" if rec.get(k) is None else str(rec.get(k)) for k in SECTION_KEYS[section])
    return RuleRef(
        section=section,
        key=key,
        source=str(rec.get("source") or ""),
        status=str(rec.get("status") or Status.CONFIRMED),
        effective_from=_date(rec["effective_from"]),
    )


def record_key(section: str, rec: Mapping[str, Any]) -> tuple:
    return tuple(None if rec.get(k) in (None, "") else str(rec.get(k)) for k in SECTION_KEYS[section])


def select_in_force(records: Mapping[str, Iterable[Mapping[str, Any]]], on: date) -> dict[str, list[dict]]:
    """For each section and key, the latest record effective on or before ``on`` (inactive ones dropped)."""
    out: dict[str, list[dict]] = {}
    for section in SECTIONS:
        best: dict[tuple, dict] = {}
        for rec in records.get(section, ()):
            eff = _date(rec.get("effective_from", "1900-01-01"))
            if eff > on:
                continue
            k = record_key(section, rec)
            cur = best.get(k)
            if cur is None or _date(cur.get("effective_from", "1900-01-01")) <= eff:
                best[k] = dict(rec)
        out[section] = [r for r in best.values() if r.get("active", True)]
    return out


_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
_NOT_CONTENT = ("id", "note", "_comment", "created_at", "updated_at")


def _norm(v: Any) -> Any:
    """Canonical form of a record value, so that the same figures give the same version string
    whether they come from defaults.json or from database rows."""
    if v is None or v == "":
        return None
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return v
    if isinstance(v, int | Decimal) or (isinstance(v, str) and _NUMERIC.match(v)):
        return format(Decimal(str(v)).normalize(), "f")
    return str(v)


def _canonical(records: Mapping[str, list[dict]]) -> str:
    data = {}
    for s in SECTIONS:
        rows = []
        for r in records.get(s, []):
            row = {k: _norm(v) for k, v in r.items() if k not in _NOT_CONTENT}
            row["active"] = bool(r.get("active", True))
            rows.append(json.dumps(row, sort_keys=True, ensure_ascii=False))
        data[s] = sorted(rows)
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


@dataclass(slots=True)
class Entitlements:
    """What one combination of identities (on one date) gives: per scheme, the (category, group, rule) options."""

    categories: tuple[str, ...]
    by_scheme: dict[Scheme, tuple[tuple[str, str, SchemeRule], ...]]
    youfu: tuple[tuple[str, YoufuRule | None], ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """The policy in force on a date (or over an interval of dates), with precomputed lookup tables."""

    version: str
    valid_from: date
    categories: Mapping[str, str]  # code -> Chinese name
    memberships: tuple[Membership, ...]
    scheme_rules: tuple[SchemeRule, ...]
    catalogue: frozenset[str]
    catalogue_refs: Mapping[str, RuleRef]
    contribution_standards: tuple[ContributionStandard, ...]
    subsidy_rules: tuple[SubsidyRule, ...]
    youfu_rules: tuple[YoufuRule, ...]
    employee_pooling: Mapping[str, PoolingRule]
    parameters: Mapping[str, str]
    category_conditions: tuple[CategoryCondition, ...] = ()
    records: Mapping[str, tuple[dict, ...]] = field(repr=False, default_factory=dict)
    # the areas (codes) whose rows formed it (docs/areas.md), and whether any of them has rules of its
    # own: False → a bill or subsidy is decided with Reason.NO_POLICY_FOR_AREA, never with another area's figures
    areas: tuple[str, ...] = ()
    covered: bool = True
    # --- derived lookup tables (built in __post_init__) ---
    _memberships_by_cat: dict = field(init=False, repr=False, compare=False)
    _rules: dict = field(init=False, repr=False, compare=False)
    _youfu_by_cat: dict = field(init=False, repr=False, compare=False)
    _age_thresholds: tuple = field(init=False, repr=False, compare=False)
    _attributes: frozenset = field(init=False, repr=False, compare=False)
    _ent_cache: dict = field(init=False, repr=False, compare=False)
    _subsidy_cache: dict = field(init=False, repr=False, compare=False)
    _conditions: dict = field(init=False, repr=False, compare=False)
    _condition_cats: frozenset = field(init=False, repr=False, compare=False)
    large_min_cost: Decimal = field(init=False, repr=False, compare=False)
    major_designated_only: bool = field(init=False, repr=False, compare=False)
    large_min_level: int = field(init=False, repr=False, compare=False)
    ungraded_level: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        s = object.__setattr__
        by_cat: dict[str, list[Membership]] = {}
        for m in self.memberships:
            by_cat.setdefault(m.category, []).append(m)
        s(self, "_memberships_by_cat", {k: tuple(v) for k, v in by_cat.items()})
        rules: dict[tuple[str, str | None], SchemeRule] = {}
        for r in self.scheme_rules:
            rules[(r.group, r.category)] = r
        s(self, "_rules", rules)
        s(self, "_youfu_by_cat", {r.category: r for r in self.youfu_rules})
        s(
            self,
            "_age_thresholds",
            tuple(sorted({m.min_age for m in self.memberships if m.min_age is not None})),
        )
        s(self, "_attributes", frozenset(m.attribute for m in self.memberships if m.attribute))
        s(self, "_ent_cache", {})
        s(self, "_subsidy_cache", {})
        s(self, "_conditions", {c.category: c for c in self.category_conditions})
        s(self, "_condition_cats", frozenset(self._conditions))
        p = {**PARAMETER_DEFAULTS, **self.parameters}
        s(self, "large_min_cost", Decimal(p["LARGE_EXPENSE_MIN_COST"]))
        s(self, "large_min_level", int(p["LARGE_EXPENSE_MIN_LEVEL"]))
        s(self, "ungraded_level", int(p["UNGRADED_LEVEL"]))
        s(self, "major_designated_only", Decimal(p["MAJOR_DISEASE_DESIGNATED_ONLY"]) != 0)

    # ------------------------------------------------------------------ lookups
    def category_name(self, code: str | None) -> str:
        if code is None:
            return ""
        return self.categories.get(code, code)

    def rule_for(self, group: str, category: str) -> SchemeRule | None:
        """A category-specific rule of a group wins over the group-wide one."""
        return self._rules.get((group, category)) or self._rules.get((group, None))

    def condition_of(self, category: str) -> CategoryCondition | None:
        """The age condition of a category in force (None: the category has none)."""
        return self._conditions.get(category)

    def held_on(
        self, person: Any, on: date, valid: tuple[str, ...] | None = None
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(categories held on ``on``, categories valid on that date whose age condition is not met
        on it). A category with an age condition counts only on the days the person meets it.
        ``valid``: the categories valid on ``on`` when the caller already has them."""
        cats = person.categories_on(on) if valid is None else valid
        if self._condition_cats.isdisjoint(cats):
            return cats, ()
        conds = self._conditions
        age = person.age_on(on)
        kept = tuple(c for c in cats if c not in conds or conds[c].met_at(age))
        return kept, tuple(c for c in cats if c not in kept)

    def effective_level(self, level: int) -> int:
        """D5: an ungraded institution (level 0) counts as ``UNGRADED_LEVEL``."""
        return self.ungraded_level if level == 0 else level

    def condition_key(
        self, categories: tuple[str, ...], age: int | None, attributes: frozenset[str]
    ) -> tuple:
        ages = self._age_thresholds
        age_bucket = bisect.bisect_right(ages, age) if (ages and age is not None) else 0
        attrs = attributes & self._attributes if attributes else frozenset()
        return (categories, age_bucket, attrs)

    def groups_under(self, key: tuple) -> list[tuple[str, str, Membership]]:
        """``groups_of`` for a ``condition_key``: the same (category, group, membership) list as for
        any age and attributes that give that key (the age bucket's own threshold stands for the age)."""
        categories, age_bucket, attributes = key
        return self.groups_of(categories, self._age_thresholds[age_bucket - 1] if age_bucket else None, attributes)

    def groups_of(
        self, categories: Iterable[str], age: int | None, attributes: frozenset[str]
    ) -> list[tuple[str, str, Membership]]:
        """(category, group, membership) for the identities held on one date, conditions applied."""
        held = set(categories)
        out: list[tuple[str, str, Membership]] = []
        for cat in categories:
            ms = self._memberships_by_cat.get(cat, ())
            applied: list[Membership] = []
            for m in ms:
                if m.otherwise or not m.conditional:
                    if not m.otherwise:
                        applied.append(m)
                    continue
                if (
                    (m.min_age is not None and age is not None and age >= m.min_age)
                    or (m.also_holds is not None and m.also_holds in held)
                    or (m.attribute is not None and m.attribute in attributes)
                ):
                    applied.append(m)
            for m in ms:
                if m.otherwise:
                    sch = group_scheme(m.group)
                    if not any(group_scheme(a.group) == sch and a.group != m.group for a in applied):
                        applied.append(m)
            out.extend((cat, m.group, m) for m in applied)
        return out

    def entitlements(
        self, categories: tuple[str, ...], age: int | None, attributes: frozenset[str]
    ) -> Entitlements:
        """Cached per combination of identities and condition outcomes: cheap for bulk runs."""
        key = self.condition_key(categories, age, attributes)
        ent = self._ent_cache.get(key)
        if ent is not None:
            return ent
        # bucket the age so that the cache key determines the outcome
        ages = self._age_thresholds
        eff_age = None
        if ages and key[1] > 0:
            eff_age = ages[key[1] - 1]
        by_scheme: dict[Scheme, list] = {}
        youfu: list = []
        for cat, group, _m in self.groups_of(categories, eff_age, key[2]):
            if group == YOUFU:
                youfu.append((cat, self._youfu_by_cat.get(cat) or self._youfu_by_cat.get(None)))
                continue
            sch = group_scheme(group)
            if sch is None:
                continue
            rule = self.rule_for(group, cat)
            if rule is not None:
                by_scheme.setdefault(sch, []).append((cat, group, rule))
        ent = Entitlements(categories, {k: tuple(v) for k, v in by_scheme.items()}, tuple(youfu))
        if len(self._ent_cache) < 100_000:
            self._ent_cache[key] = ent
        return ent

    def standard_for(self, year: int, category: str | None) -> ContributionStandard | None:
        best = None
        for st in self.contribution_standards:
            if st.year != year:
                continue
            if st.category == category:
                return st
            if st.category is None:
                best = st
        return best

    def subsidy_rule(self, group: str, enrolment: str) -> SubsidyRule | None:
        for r in self.subsidy_rules:
            if r.group == group and r.enrolment == enrolment:
                return r
        return None

    def provisional_refs(self) -> list[RuleRef]:
        refs = [r.ref for r in self.scheme_rules if r.ref.provisional]
        refs += [s.ref for s in self.contribution_standards if s.ref.provisional]
        refs += [y.ref for y in self.youfu_rules if y.ref.provisional]
        refs += [c.ref for c in self.category_conditions if c.ref.provisional]
        return refs

    # ------------------------------------------------------------------ overrides
    def with_overrides(self, overrides: Mapping[str, Any], *, on: date | None = None) -> Policy:
        """A what-if policy: ``overrides`` replaces records by key (see SCENARIO.md ``policy``)."""
        records = {s: [dict(r) for r in self.records.get(s, ())] for s in SECTIONS}
        merged = merge_overrides(records, overrides, default_from=on or self.valid_from)
        return build_policy(merged, on or self.valid_from, version_suffix="+what-if")


def merge_overrides(
    records: dict[str, list[dict]], overrides: Mapping[str, Any], *, default_from: date
) -> dict[str, list[dict]]:
    """Merge override records into ``records`` (replacing records with the same key)."""
    out = {s: list(records.get(s, ())) for s in SECTIONS}
    for section, value in overrides.items():
        if section not in SECTIONS:
            raise PolicyError(f"unknown policy section {section!r}")
        if section == "contribution_standards" and isinstance(value, Mapping):
            recs = []
            for year, st in value.items():
                recs.append(
                    {
                        "year": int(year),
                        "category": st.get("category"),
                        "t1": st["T1"],
                        "t2": st["T2"],
                        "source": st.get("source", "模拟情景"),
                        "status": st.get("status", "confirmed"),
                    }
                )
            value = recs
        if not isinstance(value, list):
            raise PolicyError(f"policy section {section!r} must be a list of records")
        for rec in value:
            rec = dict(rec)
            dated = "effective_from" in rec
            rec.setdefault("effective_from", default_from.isoformat())
            rec.setdefault("source", "模拟情景")
            rec.setdefault("status", "confirmed")
            k = record_key(section, rec)
            eff = _date(rec["effective_from"])
            # undated: replaces every version of the key ("as if it had always been so");
            # dated: a new version from that date (replacing only one of the same date)
            out[section] = [
                r
                for r in out[section]
                if record_key(section, r) != k
                or (dated and _date(r.get("effective_from", "1900-01-01")) != eff)
            ] + [rec]
    return out


def build_policy(
    records: Mapping[str, Iterable[Mapping[str, Any]]], on: date, *, version_suffix: str = ""
) -> Policy:
    """Build the pure Policy in force on ``on`` from policy records (all versions)."""
    sel = select_in_force(records, on)
    try:
        return _build(sel, on, version_suffix)
    except (KeyError, TypeError, ArithmeticError) as exc:
        raise PolicyError(f"invalid policy record: {exc!r}") from exc


def _build(sel: dict[str, list[dict]], on: date, suffix: str) -> Policy:
    latest = max(
        (_date(r["effective_from"]) for s in SECTIONS for r in sel[s] if "effective_from" in r), default=on
    )
    digest = hashlib.sha1(_canonical(sel).encode()).hexdigest()[:8]
    version = f"{latest:%Y%m%d}-{digest}{suffix}"
    memberships = tuple(
        Membership(
            category=r["category"],
            group=r["group"],
            min_age=r.get("min_age"),
            also_holds=r.get("also_holds") or None,
            attribute=r.get("attribute") or None,
            otherwise=bool(r.get("otherwise")),
            ref=_ref("memberships", r),
        )
        for r in sorted(sel["memberships"], key=lambda r: (r["category"], r["group"]))
    )
    scheme_rules = tuple(
        SchemeRule(
            scheme=Scheme(r["scheme"]),
            group=r["group"],
            category=r.get("category") or None,
            ratios=(_d(r["ratio_level1"]), _d(r["ratio_level2"]), _d(r["ratio_level3"])),
            annual_cap=_d(r["annual_cap"]),
            ref=_ref("scheme_rules", r),
        )
        for r in sel["scheme_rules"]
    )
    cat_refs = {r["name"]: _ref("catalogue", r) for r in sel["catalogue"]}
    standards = tuple(
        ContributionStandard(
            int(r["year"]),
            r.get("category") or None,
            _d(r["t1"]),
            _d(r["t2"]),
            _ref("contribution_standards", r),
        )
        for r in sel["contribution_standards"]
    )
    subsidy = tuple(
        SubsidyRule(
            r["group"], Enrolment(r["enrolment"]), r["standard"], _d(r["share"]), _ref("subsidy_rules", r)
        )
        for r in sel["subsidy_rules"]
    )
    youfu = tuple(
        YoufuRule(
            r.get("category") or None,
            _d(r["ratio"]),
            _d(r.get("threshold")) or Decimal("0.00"),
            _d(r.get("annual_cap")),
            _ref("youfu_rules", r),
            bool(r.get("inpatient_only")),
            _d(r.get("annual_threshold")) or Decimal("0.00"),
        )
        for r in sel["youfu_rules"]
    )
    conditions = tuple(
        CategoryCondition(
            r["category"],
            None if r.get("min_age") in (None, "") else int(r["min_age"]),
            None if r.get("max_age") in (None, "") else int(r["max_age"]),
            _ref("category_conditions", r),
        )
        for r in sorted(sel["category_conditions"], key=lambda r: r["category"])
    )
    pooling = {
        r["employment"]: PoolingRule(
            r["employment"],
            _d(r["deductible"]),
            (_d(r["ratio_level1"]), _d(r["ratio_level2"]), _d(r["ratio_level3"])),
            _d(r["limit_tier2"]),
            _d(r["limit_tier1"]),
            _d(r.get("account_base_share")),
            _d(r.get("account_monthly")),
            _d(r.get("account_monthly_elder")),
            r.get("elder_age"),
            _ref("employee_pooling", r),
        )
        for r in sel["employee_pooling"]
    }
    return Policy(
        version=version,
        valid_from=latest,
        categories={r["code"]: r["name"] for r in sel["categories"]},
        memberships=memberships,
        scheme_rules=scheme_rules,
        catalogue=frozenset(cat_refs),
        catalogue_refs=cat_refs,
        contribution_standards=standards,
        subsidy_rules=subsidy,
        youfu_rules=youfu,
        employee_pooling=pooling,
        parameters={r["key"]: str(r["value"]) for r in sel["parameters"]},
        category_conditions=conditions,
        records={s: tuple(sel[s]) for s in SECTIONS},
    )


#: sections whose rows make an area's own rules (the categories are the city's; parameters have defaults)
OWN_RULES = ("memberships", "scheme_rules", "subsidy_rules", "youfu_rules", "employee_pooling")


class PolicyBook:
    """All versions of the policy records; ``in_force(on)`` builds at most one Policy per interval
    between effective dates (and per set of areas) and caches it, so bulk runs pay for a bisect and a
    dict lookup.

    Policy is held per area (docs/areas.md): a record may name the area it applies to (``area``: the
    city, a district or a set of towns). With ``areas_of`` (town code, day → the codes of the areas that
    town belongs to that day) the book takes only the rows of those areas; a record with no area
    belongs to ``default_area``. Without ``areas_of`` (the engine's own tests, what-if books) every
    row applies."""

    def __init__(
        self, records: Mapping[str, Iterable[Mapping[str, Any]]], *, version_suffix: str = "",
        areas_of: Callable[[str | None, date], frozenset[str]] | None = None, default_area: str | None = None,
    ) -> None:
        self.records = {s: [dict(r) for r in records.get(s, ())] for s in SECTIONS}
        self._suffix = version_suffix
        self._areas_of = areas_of
        self._default_area = default_area
        self._dates = sorted(
            {_date(r.get("effective_from", "1900-01-01")) for s in SECTIONS for r in self.records[s]}
        )
        self._cache: dict[tuple, Policy] = {}
        self._by_area: dict[frozenset[str], dict[str, list[dict]]] = {}

    def _records_of(self, areas: frozenset[str]) -> dict[str, list[dict]]:
        out = self._by_area.get(areas)
        if out is None:
            out = {}
            for s in SECTIONS:
                rows = []
                for r in self.records[s]:
                    area = r.get("area") or self._default_area
                    if s == "categories" or area is None or area in areas:
                        rows.append({k: v for k, v in r.items() if k != "area"})
                out[s] = rows
            self._by_area[areas] = out
        return out

    def in_force(self, on: date, *, town: str | None = None) -> Policy:
        """The policy in force on ``on`` for a person of ``town``: THE choice of policy rows for a
        bill or a subsidy year (``yfbz.policy.inputs.policy_for`` calls it). The rows of the areas the
        town belonged to on ``on`` (its sets of towns, its district that day, the city); for each key
        the latest such row effective by then, so a later city-wide notice supersedes a district's row."""
        i = bisect.bisect_right(self._dates, on)
        areas = self._areas_of(town, on) if self._areas_of is not None else None
        key = (i, areas)
        pol = self._cache.get(key)
        if pol is None:
            if areas is None:
                pol = build_policy(self.records, on, version_suffix=self._suffix)
            else:
                records = self._records_of(areas)
                own = any(
                    (r.get("area") or self._default_area) in areas and _date(r.get("effective_from", "1900-01-01")) <= on
                    for s in OWN_RULES for r in self.records[s]
                )
                default_only = self._default_area in areas
                suffix = self._suffix if default_only else f"{self._suffix}@{'+'.join(sorted(areas))}"
                pol = build_policy(records, on, version_suffix=suffix)
                pol = dataclasses.replace(pol, areas=tuple(sorted(areas)), covered=own)
            self._cache[key] = pol
        return pol

    def with_overrides(self, overrides: Mapping[str, Any]) -> PolicyBook:
        return PolicyBook(
            merge_overrides(self.records, overrides, default_from=date(1900, 1, 1)), version_suffix="+what-if",
            areas_of=self._areas_of, default_area=self._default_area,
        )

    __call__: Callable[[date], Policy] = in_force
