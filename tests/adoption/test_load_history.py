"""``manage.py load_history`` (tests/samples/HISTORY.md): the example scenario decided through the
services gives what the what-if path gives, field for field; --historic records the old system's
decisions, which count against the caps and are never paid; a bad file writes nothing; loading
twice changes nothing. Runs on PostgreSQL (./dev test) and SQLite (DATABASE_URL=sqlite:///…)."""

from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.management import CommandError
from django.urls import reverse

from adoption.models import HistoryLoad
from beneficiaries.models import Identity, Person
from claims.models import Bill, CapUsage, Decision, Institution
from tests.rules.test_scenario_example import assert_matches_expected

from .conftest import EXAMPLE, deep, example, historic_example, simulate, write

pytestmark = pytest.mark.django_db


def counts() -> dict:
    """Rows of every table the load could write to."""
    labels = ("beneficiaries", "claims", "adoption", "funding", "reporting", "auditlog")
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label in labels}


def test_the_example_loads_to_the_expected_figures_and_equals_the_what_if_path_field_for_field(load):
    out, _ = load(EXAMPLE)
    assert_matches_expected({**out, "subsidies": simulate(EXAMPLE)["subsidies"]})  # load_history quotes no subsidies
    assert out["subsidies"] == []
    what_if = simulate(EXAMPLE)["bills"]
    assert out["bills"] == what_if  # every field: scheme, category, ratio, base, amounts, cap left, reasons, …
    # the decisions were made and approved through the services, by the two named staff
    bills = Bill.objects.order_by("pk")
    assert [b.status for b in bills] == ["APPROVED", "APPROVED", "APPROVED", "REFUSED", "REFUSED"]
    for d in Decision.objects.all():
        assert (d.decided_by.username, d.reviewed_by.username, d.historic) == ("district_clerk", "reviewer", False)
    tekun = Person.objects.get(id_number="500112196203150436")
    assert CapUsage.objects.get(person=tekun, year=2025, scheme="INPATIENT").used == Decimal("10000.00")
    from yfbz.core.books import verify

    assert verify().ok, verify().findings  # the caps equal the decisions the load made

def test_people_identities_and_institutions_come_in_as_migrated(load, staff, login):
    load(EXAMPLE)
    assert Person.objects.count() == 4
    idents = Identity.objects.all()
    assert idents.count() == 5
    assert {i.source for i in idents} == {Identity.Source.MIGRATED}
    assert {i.source_ref for i in idents} == {"原系统迁移：scenario-example.json"}
    assert set(Institution.objects.values_list("code", "level")) == {("YB01", 2), ("CQ01", 3)}
    # the person page says where the identity came from
    person = Person.objects.get(name="赵丽")
    page = login(staff["district_clerk"]).get(reverse("beneficiaries:person-detail", args=[person.pk])).content.decode()
    assert page.count("原系统迁移") >= 2 and "scenario-example.json" in page
    # and so does the audit trail: each identity's creation with its source, and one entry for the load
    ident = Identity.objects.filter(person=person).first()
    entry = LogEntry.objects.get_for_object(ident).get(action=LogEntry.Action.CREATE)
    assert entry.changes_dict["source"][1] == "MIGRATED"
    assert entry.changes_dict["source_ref"][1] == "原系统迁移：scenario-example.json"
    entries = LogEntry.objects.get_for_object(HistoryLoad.objects.get()).filter(action=LogEntry.Action.UPDATE)
    load_entry = next(e for e in entries if "操作" in e.changes_dict)
    assert load_entry.changes_dict["操作"][1] == "原系统历史数据导入"
    assert load_entry.changes_dict["迁移身份"][1] == "5"


def test_an_identity_already_held_is_not_added_twice_and_the_person_keeps_their_record(load, make_person):
    person = make_person("王建国", categories=("TEKUN",), valid_from=date(2023, 5, 1))
    person.id_number = "500112196203150436"
    person.save()
    _, err = load(EXAMPLE)
    assert Identity.objects.filter(person=person).count() == 1  # the roster's, covering the file's period
    assert Identity.objects.get(person=person).source == Identity.Source.ROSTER
    assert HistoryLoad.objects.get().identities_skipped == 1
    assert Person.objects.get(pk=person.pk).town.code == "SLH"


def test_loading_twice_changes_nothing_and_says_so(load, tmp_path):
    first, _ = load(EXAMPLE)
    before = counts()
    # the same content, indented differently and under another name
    again, err = load(write(tmp_path, example(), name="again.json"))
    assert again == first
    assert "已于" in err and "本次未写入任何数据" in err
    assert counts() == before


def test_a_file_simulate_refuses_is_refused_whole_with_its_message_and_exit_2(load, tmp_path):
    bad = example()
    bad["bills"][2]["in_policy_cost"] = "800.00"  # more than the total cost: bills[2] is the third bill
    path = write(tmp_path, bad)
    with pytest.raises(CommandError) as sim:
        simulate(path)
    before = counts()
    with pytest.raises(CommandError) as exc:
        load(path)
    assert exc.value.returncode == 2 == sim.value.returncode
    assert str(exc.value) == str(sim.value)
    assert "bills[2].in_policy_cost" in str(exc.value)
    assert counts() == before


@pytest.mark.parametrize(
    "change, where",
    [
        (lambda d: d["persons"][1].update(town="火星街道"), "persons[1].town"),
        (lambda d: d["persons"][1]["attributes"].update(flies=True) if "attributes" in d["persons"][1]
         else d["persons"][1].update(attributes={"flies": True}), "persons[1].attributes.flies"),
        (lambda d: d["persons"][3].pop("name"), "persons[3].name"),
    ],
)
def test_what_only_a_load_needs_is_checked_before_anything_is_written(load, tmp_path, change, where):
    data = example()
    change(data)
    before = counts()
    with pytest.raises(CommandError) as exc:
        load(write(tmp_path, data))
    assert exc.value.returncode == 2 and where in str(exc.value)
    assert counts() == before


def test_a_failure_on_the_last_bill_leaves_nothing_of_the_earlier_ones(load, tmp_path, monkeypatch):
    from claims import services

    real = services.bill_enter
    calls = []

    def failing(**kw):
        calls.append(1)
        if len(calls) == 5:
            raise services.ClaimsError("录入失败（测试）")
        return real(**kw)

    monkeypatch.setattr("adoption.services.bill_enter", failing)
    before = counts()
    with pytest.raises(CommandError) as exc:
        load(EXAMPLE)
    assert exc.value.returncode == 2 and "bills[4]" in str(exc.value)
    assert counts() == before


def test_a_bill_the_database_already_holds_is_refused(load, tmp_path):
    load(EXAMPLE)
    data = example()
    data["bills"] = [b | {"ref": "X" + b["ref"]} for b in data["bills"][:1]]  # E1 again in another file
    before = counts()
    with pytest.raises(CommandError) as exc:
        load(write(tmp_path, data))
    assert exc.value.returncode == 2 and "bills[0]" in str(exc.value) and "相同" in str(exc.value)
    assert counts() == before


@pytest.mark.parametrize(
    "entered, approved, words",
    [("district_clerk", "district_clerk", "不同人员"), ("reviewer", "district_clerk", "区医保经办"),
     ("district_clerk", "finance", "区医保审核"), ("district_clerk", "nosuchuser", "nosuchuser")],
)
def test_the_two_staff_must_be_different_and_hold_the_roles(load, entered, approved, words):
    before = counts()
    with pytest.raises(CommandError) as exc:
        load(EXAMPLE, entered=entered, approved=approved)
    assert exc.value.returncode == 2 and words in str(exc.value)
    assert counts() == before


def test_a_historic_file_in_default_mode_is_refused_with_a_hint(load, tmp_path):
    with pytest.raises(CommandError) as exc:
        load(write(tmp_path, historic_example()))
    assert exc.value.returncode == 2 and "bills[0].scheme" in str(exc.value) and "--historic" in str(exc.value)


# --- --historic --------------------------------------------------------------------------------
def test_historic_records_the_old_systems_decisions_as_given(load, tmp_path):
    out, err = load(write(tmp_path, historic_example()), historic=True)
    rows = {b["ref"]: b for b in out["bills"]}
    assert [b["ref"] for b in out["bills"]] == ["E1", "E2", "E3", "E4", "E5"]
    assert (rows["E1"]["scheme"], rows["E1"]["category"], rows["E1"]["assistance"]) == ("INPATIENT", "TEKUN", "4000.00")
    assert rows["E2"]["assistance"] == "6000.00" and rows["E2"]["cap_left"] == "0.00"
    assert rows["E3"]["youfu_subsidy"] == "60.00" and rows["E3"]["cap_left"] == "120.00"
    assert rows["E4"]["scheme"] is None and rows["E4"]["assistance"] == "0.00"
    assert all("原系统核定" in b["reasons"][0] for b in out["bills"])
    assert set(Bill.objects.values_list("status", flat=True)) == {Bill.Status.HISTORIC}
    assert all(d.historic for d in Decision.objects.all())
    tekun = Person.objects.get(id_number="500112196203150436")
    assert CapUsage.objects.get(person=tekun, year=2025, scheme="INPATIENT").used == Decimal("10000.00")
    li = Person.objects.get(id_number="500112194809300444")
    assert CapUsage.objects.get(person=li, year=2025, scheme="OUTPATIENT").used == Decimal("280.00")
    assert CapUsage.objects.get(person=li, year=2025, scheme="YOUFU").used == Decimal("60.00")
    assert "原系统核定结果，不再支付" in err
    # verify_books: every cap row equals the historic decisions behind it (issue 10)
    from yfbz.core.books import verify

    result = verify()
    assert result.ok, result.findings
    CapUsage.objects.filter(person=tekun, year=2025, scheme="INPATIENT").update(used=Decimal("9000.00"))
    assert [kind for kind, _ in verify().findings] == ["年度限额与核定不符"]


def test_historic_decisions_are_never_payables_and_never_decided_again(load, tmp_path, staff):
    from claims.selectors import payables
    from claims.services import ClaimsError, bill_decide
    from funding.models import PayableLine
    from funding.services import fund_request_create

    load(write(tmp_path, historic_example()), historic=True)
    keys = {f"decision:{d.pk}" for d in Decision.objects.all()}
    today = date.today()
    months = {(2025, m) for m in range(1, 13)} | {(today.year, today.month)}
    for y, m in sorted(months):
        assert not [p for p in payables(year=y, month=m) if p.source_key.rsplit(":", 1)[0] in keys]
    # a clerk's bill approved this month is requested; the historic ones beside it are not
    from claims.services import bill_enter, decision_approve

    person = Person.objects.get(id_number="500112194809300444")
    own = bill_enter(user=staff["district_clerk"], person=person, institution=Institution.objects.get(code="YB01"),
                     kind="OUTPATIENT", disease="", admitted_on=None, settled_on=date(2025, 10, 8),
                     total_cost=Decimal("200.00"), in_policy_cost=Decimal("200.00"), basic_paid=Decimal("100.00"),
                     critical_paid=Decimal("0.00"), account_holder=person.name, bank_name="农商行", bank_account="62284800001")
    bill_decide(bill_id=own.pk, user=staff["district_clerk"])
    mine = decision_approve(bill_id=own.pk, user=staff["reviewer"])
    req = fund_request_create(year=today.year, month=today.month, user=staff["district_clerk"])
    assert set(PayableLine.objects.filter(request=req).values_list("source_key", flat=True)) == {
        f"decision:{mine.pk}:ASSISTANCE"
    }
    bill = Bill.objects.filter(status=Bill.Status.HISTORIC).first()
    with pytest.raises(ClaimsError, match="历史票据"):
        bill_decide(bill_id=bill.pk, user=staff["district_clerk"], reason="试图重新核定")


@pytest.mark.parametrize(
    "ref, change, where",
    [
        ("E1", {"scheme": "TRAVEL"}, "bills[0].scheme"),
        ("E1", {"category": "DIBAO"}, "bills[0].category"),  # not held on the settlement date
        ("E1", {"assistance": "5000.01"}, "bills[0].assistance"),  # more than the in-policy self-pay
        ("E4", {"assistance": "10.00"}, "bills[3].assistance"),  # no scheme, yet money
        ("E3", {"assistance": 280.0}, "bills[2].assistance"),  # a float, not an amount string
    ],
)
def test_historic_results_are_checked_before_anything_is_written(load, tmp_path, ref, change, where):
    data = historic_example()
    next(b for b in data["bills"] if b["ref"] == ref).update(change)
    before = counts()
    with pytest.raises(CommandError) as exc:
        load(write(tmp_path, data), historic=True)
    assert exc.value.returncode == 2 and where in str(exc.value)
    assert counts() == before


def test_historic_needs_the_old_systems_result_on_every_bill(load, tmp_path):
    data = historic_example()
    del data["bills"][1]["assistance"]
    with pytest.raises(CommandError) as exc:
        load(write(tmp_path, data), historic=True)
    assert "bills[1].assistance" in str(exc.value)


def test_a_file_loaded_in_one_mode_is_not_loaded_again_in_the_other(load, tmp_path):
    data = historic_example()
    load(write(tmp_path, data), historic=True)
    plain = deep(data)
    # the same content can only come back as --historic (default mode refuses its extra fields)
    with pytest.raises(CommandError):
        load(write(tmp_path, plain, name="b.json"))
    assert Bill.objects.count() == 5


def test_bills_decided_after_a_historic_load_see_the_caps_already_used(load, tmp_path, staff):
    """A clerk's bill in September for the TEKUN person whose 10,000 inpatient cap the old system used
    up by August gets nothing; the veteran's widow's outpatient bill gets only the 120 left."""
    from claims.services import bill_decide, bill_enter

    load(write(tmp_path, historic_example()), historic=True)
    tekun = Person.objects.get(id_number="500112196203150436")
    li = Person.objects.get(id_number="500112194809300444")
    yb = Institution.objects.get(code="YB01")
    clerk = staff["district_clerk"]
    common = dict(user=clerk, institution=yb, disease="", critical_paid=Decimal("0.00"))
    b1 = bill_enter(person=tekun, kind="INPATIENT", admitted_on=date(2025, 9, 1), settled_on=date(2025, 9, 10),
                    total_cost=Decimal("9000.00"), in_policy_cost=Decimal("8000.00"), basic_paid=Decimal("5000.00"), **common)
    b2 = bill_enter(person=li, kind="OUTPATIENT", admitted_on=None, settled_on=date(2025, 9, 12),
                    total_cost=Decimal("800.00"), in_policy_cost=Decimal("700.00"), basic_paid=Decimal("300.00"), **common)
    d1 = bill_decide(bill_id=b1.pk, user=clerk)
    d2 = bill_decide(bill_id=b2.pk, user=clerk)
    assert d1.assistance == Decimal("0.00") and 103 in d1.reasons  # R103 cap used up
    assert d2.assistance == Decimal("120.00") and 104 in d2.reasons  # R104 held to what is left
