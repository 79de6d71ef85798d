"""The statistics pages as each role uses them, the dashboard's charts (vendored, no CDN, a table
beside each), the budget page, the fund warning on the finance officer's and the leadership's home
pages, and the leadership role (局领导) reaching no name or ID number through any door."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.core.test_every_door import crawl, text_of
from yfbz.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def leader(make_user):
    return make_user("leader", Role.LEADERSHIP)


def page(client, url, **params):
    resp = client.get(url, params)
    return resp, resp.content.decode() if resp.status_code == 200 else ""


def test_the_district_sees_every_town_and_a_town_clerk_only_their_own(year_2025, staff, login):
    url = reverse("reporting:statistics")
    resp, html = page(login(staff["district_clerk"]), url, year=2025, by="town")
    assert resp.status_code == 200
    assert "双龙湖街道" in html and "回兴街道" in html and "10,380.00" in html
    resp, html = page(login(staff["slh_clerk"]), url, year=2025, by="scheme", town="HX")  # asks for another town
    assert resp.status_code == 200
    assert "双龙湖街道" in html and "10,000.00" in html and "380.00" not in html.replace("10,380.00", "")
    assert resp.context["town"].code == "SLH"
    assert login(staff["townless_clerk"]).get(url).status_code == 403
    assert login(staff["civil_officer"]).get(url).status_code == 403
    assert login(staff["nobody"]).get(url).status_code == 403


@pytest.mark.parametrize("params", [{"year": "abc"}, {"period": "Q9"}, {"by": "colour"}, {"town": "ZZZ"}, {"year": "99999"}])
def test_bad_parameters_are_said_not_a_server_error(year_2025, staff, login, params):
    resp, html = page(login(staff["district_clerk"]), reverse("reporting:statistics"), **params)
    assert resp.status_code == 200
    if "by" not in params:
        assert "无法识别" in html


def test_the_dashboard_draws_vendored_charts_each_with_its_table(year_2025, staff, login, leader):
    resp, html = page(login(leader), reverse("reporting:dashboard"), year=2025)
    assert resp.status_code == 200
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts and all(s.startswith("/static/") for s in scripts), scripts  # no CDN
    assert "/static/vendor/echarts/echarts.min.js" in scripts
    for key in ("months", "scheme", "category", "town", "funds"):
        assert f'data-testid="chart-{key}"' in html and f'data-testid="chart-table-{key}"' in html
        assert f'id="opt-{key}"' in html  # the chart's option, as JSON
    assert "10,380.00" in html and "普通疾病住院医疗救助" in html


def test_town_clerks_do_not_get_the_dashboard_nor_a_link_to_it(year_2025, staff, login):
    client = login(staff["slh_clerk"])
    assert client.get(reverse("reporting:dashboard")).status_code == 403
    assert reverse("reporting:dashboard") not in client.get("/").content.decode()



def test_subsidies_by_category_and_enrolment_reach_the_page_after_a_run(year_2025, staff, login, people):
    from django.utils import timezone

    from funding.models import SubsidyResult, SubsidyRun
    from reporting.build import refresh

    run = SubsidyRun.objects.create(year=2025, status="done", started_by=staff["district_clerk"], finished_at=timezone.now())
    for key, amount in (("slh", "400.00"), ("hx", "775.00")):
        p = people[key]
        SubsidyResult.objects.create(person=p, year=2025, enrolment="RESIDENT_T1", category="DIBAO", amount=Decimal(amount),
                                     run=run, town=p.town)
    refresh()  # the run wrote its results in bulk: the refresh notices the finished run
    url = reverse("reporting:statistics")
    resp = login(staff["district_clerk"]).get(url, {"year": 2025})
    sub = resp.context["sub_enrolment"]
    assert [(r.label, r.people, r.amount) for r in sub[0]] == [("城乡居民医保一档", 2, Decimal("1175.00"))]
    resp = login(staff["slh_clerk"]).get(url, {"year": 2025})
    assert [(r.label, r.people, r.amount) for r in resp.context["sub_enrolment"][0]] == [("城乡居民医保一档", 1, Decimal("400.00"))]
    assert [(r.label, r.amount) for r in resp.context["sub_category"][0]] == [("低保对象", Decimal("400.00"))]


def test_finance_enters_the_budget_on_a_page_and_the_warning_reaches_both_home_pages(year_2025, staff, login, leader):
    from funding.models import YoufuBudget
    from reporting.models import FundBudget

    url = reverse("reporting:budget")
    client = login(staff["finance"])
    resp = client.post(url, {"year": 2025, "UPPER": "6000.00", "DISTRICT": "2,000.00", "YOUFU": "abc"})
    assert resp.status_code == 302 and not FundBudget.objects.exists()  # one bad amount: nothing saved
    client.post(url, {"year": 2025, "UPPER": "6000.00", "DISTRICT": "2000.00", "YOUFU": "100.00", "note": "区财预〔2025〕3号"})
    assert {b.line: b.amount for b in FundBudget.objects.all()} == {
        "UPPER": Decimal("6000.00"), "DISTRICT": Decimal("2000.00"), "YOUFU": Decimal("100.00")}
    assert YoufuBudget.objects.get(year=2025).amount == Decimal("100.00")
    assert login(staff["reviewer"]).post(url, {"year": 2025, "UPPER": "1.00"}).status_code == 403
    assert FundBudget.objects.get(line="UPPER").amount == Decimal("6000.00")
    # 2025 is over: 10,380.00 of assistance decided against 8,000.00 budgeted, 80.00 against 100.00
    resp, html = page(client, url, year=2025)
    assert "超出预算" in html or "资金用尽" in html
    for user in (staff["finance"], leader):
        home = login(user).get("/").content.decode()
        assert 'data-testid="home-fund-warning"' in home
    assert 'data-testid="home-fund-warning"' not in login(staff["district_clerk"]).get("/").content.decode()


def test_the_leadership_reaches_no_name_or_id_number_by_any_door(year_2025, staff, login, leader, people, client):
    """Every page the district clerk can reach (and every page from the leader's own home page),
    asked for by 局领导: whatever comes back holds no person's name or ID number (full or masked)."""
    from beneficiaries.models import Person
    from reporting.returns import return_approve, return_prepare
    from tests.reporting.test_returns import Q2

    ret = return_prepare(kind="ASSISTANCE", period=Q2, user=staff["district_clerk"])
    return_approve(return_id=ret.pk, user=staff["reviewer"], responsible="张局长")
    return_prepare(kind="FUNDS", period=Q2, user=staff["finance"])  # a draft the leader must not see
    persons = list(Person.objects.all())
    secrets = {p.name for p in persons} | {p.id_number for p in persons} | {p.masked_id_number for p in persons}

    client.force_login(staff["district_clerk"])
    urls = crawl(client)
    assert len(urls) > 20
    district_text = "\n".join(text_of(client.get(u)) for u in urls)
    assert any(s in district_text for s in secrets)  # the district clerk does see people: the test means something

    client.force_login(leader)
    leader_urls = crawl(client)
    assert {"/reporting/", "/reporting/dashboard/", "/reporting/returns/"} <= {u.split("?")[0] for u in leader_urls}
    leaks, reached = [], 0
    for url in dict.fromkeys(urls + leader_urls):
        resp = client.get(url)
        if resp.status_code in (302, 403, 404):
            continue
        reached += 1
        text = text_of(resp)
        found = sorted(s for s in secrets if s in text)
        if found:
            leaks.append((url, found[:3]))
    assert reached >= 8
    assert leaks == [], f"pages showing people to 局领导: {leaks}"
    assert client.get(reverse("reporting:return-detail", args=[ret.pk + 1])).status_code == 404  # the draft
