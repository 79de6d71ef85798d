"""The audit trail in words (issue 11's open item, issue 9's audit): the auditor reads Chinese field names,
Chinese action names and a readable summary — never an engine's raw snapshot, raw JSON, django-axes'
English field names, bulk entries' English keys or a many-to-many change as "type → operation"."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from beneficiaries import services as roster_services
from tests.beneficiaries.conftest import confirm_roster, ids, roster_xlsx  # noqa: F401 (fixture)
from tests.core.test_every_page_in_words import ALLOWED_ENGLISH, Visible
from yfbz.core.models import User
from yfbz.core.roles import Role

pytestmark = pytest.mark.django_db


def _cells(html: str, column: int) -> list[str]:
    rows = re.findall(r"<tr><td>.*?</tr>", html, re.S)
    out = []
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if len(cells) > column:
            v = Visible()
            v.feed(cells[column])
            out.append(" ".join(v.parts))
    return out


@pytest.fixture
def trail(people, staff, decided_bill, upload_file, confirm_roster):  # noqa: F811
    """The kinds of entry an auditor meets: a decision (with the engine's snapshot, reasons, layers), a
    roster upload (headers, how the file was read), a town's review and the roster taking effect
    (bulk entries), a role given (many-to-many), failed logins and a lock (django-axes)."""
    from claims.services import decision_approve

    bill = decided_bill(people["slh"])
    decision_approve(bill_id=bill.pk, user=staff["reviewer"])
    up = upload_file(roster_xlsx([(n, "某", "低保", "双龙湖", "", "") for n in ids(2)])).upload
    roster_services.roster_submit(upload=up, user=staff["civil_officer"])
    roster_services.roster_rows_review(upload=up, user=staff["slh_clerk"], accept=True)
    confirm_roster(up, confirm_endings=True)
    staff["finance"].groups.add(Group.objects.get(name=Role.DISTRICT_REVIEWER.value))
    for _ in range(5):
        Client().post("/accounts/login/", {"username": "district_clerk", "password": "wrong-Password-1"},
                      REMOTE_ADDR="10.0.0.9")


def test_the_audit_trail_reads_in_chinese_with_summaries_not_raw_json(trail, staff, login):
    from auditlog.models import LogEntry

    assert LogEntry.objects.filter(content_type__app_label="axes").exists()
    auditor = login(staff["auditor"])
    fields, values, objects, actions = [], [], [], []
    pages = LogEntry.objects.count() // 50 + 1
    for n in range(1, pages + 1):
        html = auditor.get(reverse("audit-log"), {"page": n}).content.decode()
        actions += _cells(html, 2)
        objects += _cells(html, 4)
        for cell in re.findall(r'<td class="changes">(.*?)</td>', html, re.S):
            fields += re.findall(r"<b>(.*?)</b>", cell)
            values += [re.sub(r"<[^>]+>", "", v) for v in re.findall(r"</b>：(.*?)</div>", cell, re.S)]
    assert len(fields) > 100
    allowed = ALLOWED_ENGLISH | set(User.objects.values_list("username", flat=True))

    def english(text):
        return [w for w in re.findall(r"[A-Za-z_]+", text) if len(w) >= 3 and w not in allowed]

    # field names: Chinese, whatever model or bulk entry they come from (axes' "User Agent", "people_created" …)
    assert [f for f in fields if english(f)] == []
    # actions and objects: Chinese ("Failed access: user …" is said as 登录失败：…)
    assert set(actions) <= {"新增", "修改", "删除", "查看"}
    assert [o for o in objects if english(o)] == [], [o for o in objects if english(o)]
    # values: no raw JSON, no engine snapshot, no "type → operation", no database expression
    raw = [v for v in values if re.search(r"[{}\[\]]|&#x27;|\bm2m\b|\boperation\b|Concat\(|F\(", v)]
    assert raw == [], raw[:5]
    text = "\n".join(values)
    assert not re.search(r"(?<![\d.])[01]\.\d{4}(?!\d)", text)  # a ratio as a percentage, not 0.6000
    assert "DIBAO" not in text and "低保对象" in text  # the category in words, without its code
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}", text)  # no raw timestamps
    assert "引擎原始核定结果，共" in text  # the snapshot said for what it is
    assert "添加：区医保审核" in text  # the role given
    assert "表头在第1行" in text  # how the roster was read, as the roster page says it
    assert "新增身份" in text and "镇街" in fields  # the bulk entries' keys in words
    assert "登录失败：district_clerk（10.0.0.9）" in "\n".join(objects)
    assert "因此锁定" in fields and "IP地址" in fields


def test_the_audit_export_says_the_same_in_words(trail, staff, login):
    import io

    from openpyxl import load_workbook

    resp = login(staff["auditor"]).get(reverse("audit-export"))
    wb = load_workbook(io.BytesIO(resp.content), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    text = "\n".join(str(c) for row in rows for c in row if c is not None)
    assert "引擎原始核定结果，共" in text and "登录失败：district_clerk" in text
    assert not re.search(r"User Agent|Failed Logins|people_created|'format'|\{'", text)


def test_the_admin_view_of_the_trail_reads_the_same(trail, staff, login):
    from auditlog.models import LogEntry

    from tests.core.test_every_page_in_words import visible_text

    client = login(staff["auditor"])
    page = client.get(reverse("admin:auditlog_logentry_changelist"))
    assert page.status_code == 200
    text = visible_text(page)
    assert "Changes" not in text and "change:" not in text and "system" not in text.split()
    failed = LogEntry.objects.filter(content_type__app_label="axes", content_type__model="accessfailurelog").first()
    detail = visible_text(client.get(reverse("admin:auditlog_logentry_change", args=[failed.pk])))
    assert "登录失败：district_clerk（10.0.0.9）" in detail and "IP地址" in detail
    assert not re.search(r"User Agent|HTTP Accept|remote address|Resource|Correlation", detail)
    snapshot = LogEntry.objects.filter(content_type__model="decision", action=0).first()
    detail = visible_text(client.get(reverse("admin:auditlog_logentry_change", args=[snapshot.pk])))
    assert "引擎原始核定结果，共" in detail and "{'" not in detail


def test_the_admin_list_names_each_entrys_fields_without_reading_their_values(trail, staff, login, monkeypatch):
    """Issue 14: the trail's admin list was 2–3× the baseline page under load (p50 180 ms): each of its
    100 rows formatted every value of its entry (auditlog's display dict, a date parsed per field, each
    related object named) only to print the fields' names. The summary now names the same fields, in the
    same order and number as the entry's own page, without reading a value."""
    from auditlog.models import LogEntry

    from yfbz.core import display

    reads = []
    original = LogEntry.changes_display_dict
    monkeypatch.setattr(LogEntry, "changes_display_dict",
                        property(lambda entry: reads.append(entry.pk) or original.fget(entry)))
    client = login(staff["auditor"])
    before = set(LogEntry.objects.values_list("pk", flat=True))
    shown, page = {}, 1
    while len(shown) < len(before) and page < 20:
        html = client.get(reverse("admin:auditlog_logentry_changelist"), {"p": page}).content.decode()
        for pk, cell in re.findall(r'/admin/auditlog/logentry/(\d+)/change/.*?<td class="field-summary">(.*?)</td>', html, re.S):
            shown[int(pk)] = cell.strip()
        page += 1
    assert reads == []
    assert before <= set(shown)

    def summary(entry):
        names = [field for field, _before, _after in display.audit_changes(entry)]
        return f"{len(names)}项：{'、'.join(names[:6])}{'等' if len(names) > 6 else ''}" if names else "—"

    expected = {e.pk: summary(e) for e in LogEntry.objects.filter(pk__in=shown).select_related("content_type", "actor")}
    assert sum(1 for s in expected.values() if s != "—") > 10 and any(s.endswith("等") for s in expected.values())
    assert shown == expected
