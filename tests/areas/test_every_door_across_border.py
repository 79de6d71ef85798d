"""Every door across a border (issue 17): with the demo data (the five northern towns moved to 北碚区 on
2026-01-25, 观音桥街道 arrived from former 江北), town clerks of each kind (a town that stays, a town
that left, an arriving town), the district staff of both sides and the city level GET every URL
pattern of the project with every object id. No answer may be a server error, and none may show the
name or ID number of a person the user may not see.

Who may see whom is written here from the rules of docs/areas.md, not read from the scoping code:
- a town clerk: the people who live or lived in their town; roster rows of their town from the months
  the town was under the clerk's district (a roster sent after 统景 left is 北碚's to review);
- district staff: the people who live or lived in a town that was ever under their district, and the
  people with no town; roster rows of a town under their district in the roster's month, and roster
  rows and settlement lines with no town (no person found for them);
- the city level: everyone (only server errors are looked for).

A new URL pattern with an object id must say here which model its id belongs to (``MODEL_OF``), else
the test fails: no door is left out by forgetting it.
"""

from __future__ import annotations

import io
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Q
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.core.test_every_door import text_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

#: which model each URL pattern's ``pk`` is the id of
MODEL_OF = {
    "beneficiaries:person-detail": "beneficiaries.Person",
    "beneficiaries:person-town": "beneficiaries.Person",
    "beneficiaries:person-attribute": "beneficiaries.Person",
    "beneficiaries:person-correction": "beneficiaries.Person",
    "beneficiaries:roster-detail": "beneficiaries.RosterUpload",
    "beneficiaries:roster-progress": "beneficiaries.RosterUpload",
    "beneficiaries:roster-issues": "beneficiaries.RosterUpload",
    "beneficiaries:roster-action": "beneficiaries.RosterUpload",
    "beneficiaries:roster-review": "beneficiaries.RosterUpload",
    "claims:bill-detail": "claims.Bill",
    "claims:bill-edit": "claims.Bill",
    "claims:bill-approve": "claims.Bill",
    "claims:bill-refuse": "claims.Bill",
    "claims:bill-return": "claims.Bill",
    "claims:bill-redecide": "claims.Bill",
    "claims:attachment": "claims.BillAttachment",
    "claims:notice-pdf": "claims.Decision",
    "claims:notice-print": "claims.Decision",
    "claims:notice-batch": "claims.NoticeBatch",
    "claims:notice-batch-progress": "claims.NoticeBatch",
    "claims:settlement-month": "claims.SettlementMonth",
    "claims:settlement-confirm": "claims.SettlementMonth",
    "claims:settlement-reopen": "claims.SettlementMonth",
    "claims:platform-split": "claims.PlatformSettlementFile",
    "claims:settlement-resolve": "claims.SettlementLine",
    "claims:retroactive-detail": "beneficiaries.RetroactiveChange",
    "funding:request-detail": "funding.FundRequest",
    "funding:request-pdf": "funding.FundRequest",
    "funding:request-action": "funding.FundRequest",
    "funding:line-bank": "funding.PayableLine",
    "funding:batch-xlsx": "funding.PaymentBatch",
    "funding:batch-confirm": "funding.PaymentBatch",
    "funding:proposal-decide": "funding.EntryProposal",
    "funding:entry-reverse": "funding.JournalEntry",
    "funding:receivable-recover": "funding.Receivable",
    "funding:subsidy-progress": "funding.SubsidyRun",
    "funding:file-import": "funding.FileImport",
    "funding:tax-reconciliation": "funding.TaxReconciliation",
    "funding:tax-reconciliation-export": "funding.TaxReconciliation",
    "funding:tax-reconciliation-settle": "funding.TaxReconciliation",
    "funding:selfpaid-decide": "funding.SelfPaidReport",
    "reporting:return-detail": "reporting.StatReturn",
    "reporting:return-approve": "reporting.StatReturn",
    "reporting:return-cancel": "reporting.StatReturn",
    "reporting:return-file": "reporting.StatReturn",
    "monitoring:alert-detail": "monitoring.Alert",
    "monitoring:alert-action": "monitoring.Alert",
    "monitoring:referral-detail": "monitoring.Referral",
    "monitoring:referral-outcome": "monitoring.Referral",
    "monitoring:application-detail": "monitoring.Application",
    "monitoring:application-paper": "monitoring.Application",
    "monitoring:application-step": "monitoring.Application",
    "job-rerun": "funding.SubsidyRun",
    "export-detail": "core.ExportJob",  # the asker's own: anyone else gets 404 (tests/core/test_export_jobs.py)
    "export-download": "core.ExportJob",
}
#: the values of the other parameters
OTHER_VALUES = {"year": [2025, 2026], "fmt": ["xlsx", "pdf"], "action": ["submit"], "label": ["funding.subsidyrun"],
                "step": ["review"], "paper": "monitoring.ApplicationPaper"}
SKIP = ("admin", "static", "healthz", "accounts/logout", "accounts/login", "accounts/otp")
PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def patterns(resolver=None, prefix="", ns=""):
    """(route, name with namespace, parameter names) of every URL pattern of the project."""
    for p in (resolver or get_resolver()).url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from patterns(p, route, f"{ns}{p.namespace}:" if p.namespace else ns)
        elif isinstance(p, URLPattern) and p.name and not route.startswith(SKIP):
            yield route, ns + p.name, PARAM.findall(route)


def urls_of(name, params):
    """Every address of one pattern: every object id of its model, each value of its other parameters."""
    combos = [{}]
    for param in params:
        if param == "pk":
            values = list(apps.get_model(MODEL_OF[name])._base_manager.order_by("pk").values_list("pk", flat=True))
        elif isinstance(OTHER_VALUES[param], str):  # the ids of another model
            values = list(apps.get_model(OTHER_VALUES[param])._base_manager.order_by("pk").values_list("pk", flat=True))
        else:
            values = OTHER_VALUES[param]
        combos = [{**c, param: v} for c in combos for v in values]
    return [reverse(name, kwargs=c) for c in combos]


def visible_people(user):
    """The people ``user`` may see (docs/areas.md), and the names on roster rows they may see."""
    from django.utils import timezone

    from beneficiaries.models import Person, RosterRow
    from yfbz.areas.tree import area_tree

    tree = area_tree()
    district = user.district_id or tree.bureau_on(timezone.localdate()).district_id
    if user.town_id:
        towns = {user.town_id}
        people = Person.objects.filter(Q(town=user.town_id) | Q(town_spans__town=user.town_id))
    else:
        towns = {s.town_id for s in tree.district_spans(district)}
        people = Person.objects.filter(Q(town__isnull=True) | Q(town__in=towns) | Q(town_spans__town__in=towns))
    rows = [
        name
        for name, town, month in RosterRow.objects.values_list("name", "town_id", "upload__month")
        if (town is None and not user.town_id) or (town in towns and tree.district_of(town, month) == district)
    ]
    if not user.town_id:  # district staff see the settlement lines no person was found for (no town)
        from claims.models import SettlementLine

        rows += SettlementLine.objects.filter(town__isnull=True).values_list("name", flat=True)
    return set(people.values_list("pk", flat=True)), set(people.values_list("name", flat=True)) | set(rows)


def walk(client, user):
    """GET every address as ``user``: (server errors, pages showing a person the user may not see)."""
    from beneficiaries.models import Person

    mine, allowed_names = visible_people(user)
    theirs = Person.objects.exclude(pk__in=mine)
    foreign_ids = set(theirs.values_list("id_number", flat=True))
    # a foreign name inside an allowed one (吴国 in 吴国强) says nothing
    foreign_names = {n for n in theirs.values_list("name", flat=True) if not any(n in a for a in allowed_names)}
    client.force_login(user)
    errors, leaks, visited = [], [], 0
    for _route, name, params in patterns():
        for url in urls_of(name, params):
            resp = client.get(url)
            visited += 1
            if resp.status_code >= 500:
                errors.append((url, resp.status_code))
            if resp.status_code == 405:
                break  # a door that only takes POST: one id says so
            if resp.status_code != 200:
                continue
            text = text_of(resp)
            hits = [i for i in foreign_ids if i in text] + [n for n in foreign_names if n in text]
            if hits:
                leaks.append((url, hits[:3]))
    return visited, errors, leaks


def test_every_pattern_with_an_object_id_says_whose_id_it_is():
    missing = [name for _route, name, params in patterns() if "pk" in params and name not in MODEL_OF]
    unknown = [p for *_x, params in patterns() for p in params if p != "pk" and p not in OTHER_VALUES]
    assert missing == [] and unknown == []


def crawl_as(client, *usernames):
    from yfbz.core.models import User

    call_command("demo_data", people=120, stdout=io.StringIO())
    found = {u: walk(client, User.objects.get(username=u)) for u in usernames}
    assert all(visited > 300 for visited, _e, _l in found.values()), {u: v for u, (v, _e, _l) in found.items()}
    assert {u: e for u, (_v, e, _l) in found.items() if e} == {}
    return {u: leak for u, (_v, _e, leak) in found.items() if leak and u != "city"}


def test_town_clerks_on_both_sides_of_the_border_both_districts_and_the_city_see_no_one_they_may_not(client):
    # 统景 left for 北碚区 (its clerk is 渝北's), 双龙湖 stays, 观音桥 arrived from former 江北; bb_clerk is
    # 北碚区's district clerk: the fund requests, payment batches and receivables are per district
    assert crawl_as(client, "tj_clerk", "slh_clerk", "gyq_clerk", "district_clerk", "bb_clerk", "city") == {}
