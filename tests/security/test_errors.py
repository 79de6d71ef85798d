"""No parameter, file or double submission gives a 500 (issue 9, finding 9); error pages in Chinese in
the site's layout; dates checked 1900–2100; names never silently cut; the auditor writes nothing
(finding 8)."""

import io
import re
import threading
from collections import defaultdict
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_months_named_in_the_issue_give_a_message_not_a_500(staff, login):
    client = login(staff["district_clerk"])
    client.raise_request_exception = False
    resp = client.get("/people/rosters/duty/", {"month": "0001-01"})
    assert resp.status_code == 200 and "1900年至2100年" in resp.content.decode()
    fin = login(staff["finance"])
    fin.raise_request_exception = False
    for params in ({"month": "9999-12"}, {"year": "9999", "month": "12"}, {"year": "abc", "month": "x"}):
        resp = fin.get("/funding/report/", params)
        assert resp.status_code in (200, 400), (params, resp.status_code)


def test_a_person_page_with_an_absurd_date_says_so(staff, people, login):
    client = login(staff["district_clerk"])
    resp = client.get(reverse("beneficiaries:person-detail", args=[people["slh"].pk]), {"on": "0001-01-01"})
    assert resp.status_code == 200
    resp = client.get(reverse("policy:in-force"), {"on": "9999-12-31"})
    assert resp.status_code == 200


def test_the_error_pages_are_chinese_and_in_the_sites_layout(staff, login):
    client = login(staff["slh_clerk"])
    resp = client.get("/no/such/page/")
    assert resp.status_code == 404
    page = resp.content.decode()
    assert "页面不存在" in page and 'class="topbar"' in page
    resp = client.get(reverse("funding:ledger"))
    assert resp.status_code == 403
    page = resp.content.decode()
    assert "无权访问" in page and "403 Forbidden" not in page and 'class="topbar"' in page
    from django.test import RequestFactory
    from django.views.defaults import server_error

    page = server_error(RequestFactory().get("/")).content.decode()
    assert "系统出错" in page and 'class="topbar"' in page


def test_a_csrf_failure_is_explained_in_chinese(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff["district_clerk"])
    resp = client.post(reverse("claims:bill-new"), {})
    assert resp.status_code == 403 and "安全校验未通过" in resp.content.decode()


def test_an_unchecked_bad_parameter_gives_a_400_page_not_a_500(staff):
    # the safety net: a ValueError from reading a GET request is a 400 page with a message, logged
    from django.test import RequestFactory

    from yfbz.core.params import BadParameter, BadRequestMiddleware

    req = RequestFactory().get("/x", {"n": "abc"})
    req.user = staff["auditor"]
    mw = BadRequestMiddleware(lambda r: None)
    resp = mw.process_exception(req, ValueError("invalid literal for int()"))
    assert resp.status_code == 400 and "参数有误" in resp.content.decode() and 'class="topbar"' in resp.content.decode()
    resp = mw.process_exception(req, BadParameter("月份“0001-01”不在合理范围内"))
    assert "0001-01" in resp.content.decode()
    post = RequestFactory().post("/x")
    assert mw.process_exception(post, ValueError("x")) is None  # a POST's errors are not hidden


# --- the auditor changes nothing, allocates nothing (finding 8) ------------------------------------
def test_the_auditor_cannot_post_a_notice_batch_or_allocate_a_number(decided_bill, people, staff, login,
                                                                      django_capture_on_commit_callbacks):
    from claims.models import Notice, NoticeBatch
    from claims.services import decision_approve

    bill = decided_bill(people["slh"])
    decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    d = bill.decisions.get(is_current=True)
    auditor = login(staff["auditor"])
    resp = auditor.post(reverse("claims:notice-batch-new"), {"decision": [d.pk]})
    assert resp.status_code == 403 and "审计" in resp.content.decode()
    assert not NoticeBatch.objects.exists()
    resp = auditor.get(reverse("claims:notice-pdf", args=[d.pk]))
    assert resp.status_code == 302
    resp = auditor.post(reverse("claims:notice-print", args=[d.pk]))  # 查看: refused, nothing issued yet
    assert resp.status_code == 302 and resp["Location"] == reverse("claims:bill-detail", args=[bill.pk])
    assert not Notice.objects.exists() and not NoticeBatch.objects.exists()  # no official number taken
    # once issued by a clerk, the auditor may read it (a read-only job, issue 14), and still records nothing
    with django_capture_on_commit_callbacks(execute=True):
        login(staff["district_clerk"]).post(reverse("claims:notice-print", args=[d.pk]))
    prints = Notice.objects.get().prints.count()
    with django_capture_on_commit_callbacks(execute=True):
        resp = login(staff["auditor"]).post(reverse("claims:notice-print", args=[d.pk]))
    batch = NoticeBatch.objects.get(requested_by=staff["auditor"])
    assert batch.read_only and batch.status == NoticeBatch.Status.DONE
    resp = login(staff["auditor"]).get(resp["Location"] + "?download=1")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert Notice.objects.get().prints.count() == prints and Notice.objects.count() == 1


def test_the_auditor_is_refused_every_write(staff, people, login):
    client = login(staff["auditor"])
    for url in (reverse("beneficiaries:roster-list"), reverse("claims:settlement-list"), reverse("funding:ledger"),
                reverse("claims:bill-new"), "/admin/beneficiaries/town/1/change/"):
        assert client.post(url, {}).status_code == 403, url


# --- names never silently cut ----------------------------------------------------------------------
def test_a_name_longer_than_the_field_is_an_error_not_cut(upload_file):
    from beneficiaries.models import RosterRow
    from tests.beneficiaries.conftest import ids, roster_xlsx

    up = upload_file(roster_xlsx([(ids(1)[0], "张" * 51, "低保", "双龙湖", "", "")])).upload
    row = RosterRow.objects.get(upload=up)
    assert row.outcome == "invalid"
    assert "超过50个字符" in row.messages_text


# --- a double submission -------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real race needs PostgreSQL")
def test_the_same_settlement_file_uploaded_twice_at_once_gives_one_file_and_one_message(staff, towns):
    from claims.models import Institution, SettlementFile
    from claims.services import ClaimsError
    from claims.settlement import settlement_file_upload

    inst = Institution.objects.create(code="YB77", name="某医院", level=2)
    data = "结算编号,身份证号码\nS1,500112196005011003\n".encode()
    barrier, outcomes = threading.Barrier(2), []

    def go():
        from datetime import date

        from django.db import connections

        try:
            barrier.wait()
            settlement_file_upload(institution=inst, month=date(2025, 3, 1), file_name="a.csv", data=data,
                                   user=staff["district_clerk"])
            outcomes.append("stored")
        except ClaimsError as exc:
            outcomes.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - the failure this test is about
            outcomes.append(f"crash {type(exc).__name__}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(o[:5] for o in outcomes) != ["crash"] * 2
    assert not any(o.startswith("crash") for o in outcomes), outcomes
    assert outcomes.count("stored") == 1
    assert SettlementFile.objects.count() == 1


# --- a parameter fuzz over every page ------------------------------------------------------------
BAD_VALUES = ["0001-01", "9999-12-31", "abc", "-1e400\x00<x>"]
EXTRA_KEYS = ["month", "year", "on", "page", "town"]


class Links(__import__("html.parser").parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and (href := dict(attrs).get("href")) and href.startswith("/"):
            self.hrefs.append(href)


def _crawl(client, limit=35):
    seen, queue, per = [], ["/"], defaultdict(int)
    visited = set()
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in visited or url.startswith(("/accounts/logout", "/static/", "/admin/")):
            continue
        visited.add(url)
        resp = client.get(url)
        if resp.status_code != 200:
            continue
        seen.append(url)
        if "text/html" in resp.get("Content-Type", ""):
            p = Links()
            p.feed(resp.content.decode(errors="replace"))
            for h in p.hrefs:
                key = re.sub(r"\d+", "N", urlsplit(h).path)
                if per[key] < 1:
                    per[key] += 1
                    queue.append(h)
    return seen


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["district_clerk"])  # the widest reach (a second role doubles the suite's time)
def test_no_parameter_on_any_page_gives_a_server_error(who):
    from yfbz.core.models import User

    call_command("demo_data", people=200, stdout=io.StringIO())
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=who))
    urls = _crawl(client)
    assert len(urls) > 10
    errors = []
    for url in urls:
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query))
        keys = list(params) + [k for k in EXTRA_KEYS if k not in params]
        for key in keys:
            for bad in BAD_VALUES:
                target = f"{parts.path}?{urlencode({**params, key: bad})}"
                if target.startswith("/accounts/logout"):
                    continue
                resp = client.get(target)
                if resp.status_code >= 500:
                    errors.append((target, resp.status_code))
                    break
    assert errors == [], f"server errors: {errors[:30]}"
