"""The admin's one-stop lines (read-only): 处理结果 as a reviewer reads it. The stored empty resolution is
labelled 待处理 by its choices, so every agreed line read “待处理” as if it still waited, and the filter
待处理 listed every agreed line with the open disputes."""

import re

import pytest

from claims.models import SettlementLine
from claims.settlement import settlement_line_resolve
from tests.claims.test_settlement import march_file  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def _rows(html: str) -> dict[str, list[str]]:
    """settlement no → the 处理结果 cells of its rows, in the list's order."""
    out: dict[str, list[str]] = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        no = re.search(r'class="field-settlement_no[^"]*"[^>]*>(?:<a[^>]*>)?([^<]*)', row)
        res = re.search(r'class="field-resolution_zh[^"]*"[^>]*>([^<]*)<', row)
        if no and res:
            out.setdefault(no.group(1).strip(), []).append(res.group(1).strip())
    return out


def test_an_agreed_line_needs_no_resolution_and_only_open_disputes_are_waiting(client, admin_user, staff, march_file):  # noqa: F811
    wrong = SettlementLine.objects.get(file=march_file, settlement_no="S002")
    settlement_line_resolve(line_id=wrong.pk, user=staff["reviewer"], resolution="ENGINE")
    client.force_login(admin_user)
    rows = _rows(client.get("/admin/claims/settlementline/").content.decode())
    assert rows["S001"] == ["—", "有异议，待处理"]  # agreed; the same settlement again in the file (duplicate)
    assert rows["S002"] == ["按核定金额支付"]
    assert rows["S003"] == ["有异议，待处理"] and rows["S005"] == ["有异议，待处理"]
    html = client.get("/admin/claims/settlementline/?resolution=WAITING").content.decode()
    assert "有异议，待处理" in html
    waiting = _rows(html)
    assert set(waiting) == {"S001", "S003", "S004", "S005"} and waiting["S001"] == ["有异议，待处理"]
    assert set(_rows(client.get("/admin/claims/settlementline/?resolution=ENGINE").content.decode())) == {"S002"}
    agreed = SettlementLine.objects.get(file=march_file, settlement_no="S001", outcome="AGREED")
    detail = client.get(f"/admin/claims/settlementline/{agreed.pk}/change/").content.decode()
    assert "待处理" not in detail


def test_the_admin_names_identity_categories_never_their_codes(client, admin_user, staff, march_file, decided_bill, people):  # noqa: F811
    from datetime import date

    from claims.models import Decision

    decided_bill(people["slh"], settled_on=date(2025, 4, 3))
    d = Decision.objects.filter(is_current=True).exclude(category="").first()
    assert d is not None and d.category == "DIBAO"
    client.force_login(admin_user)
    for url in ("/admin/claims/decision/", f"/admin/claims/decision/{d.pk}/change/",
                f"/admin/claims/settlementline/{SettlementLine.objects.get(file=march_file, outcome='AGREED').pk}/change/"):
        html = client.get(url).content.decode()
        # the list's column, the detail's field (the engine's raw snapshot, labelled so, keeps its codes)
        shown = (re.findall(r'<td class="field-category_zh">([^<]*)</td>', html)
                 + re.findall(r'field-category_zh.*?<div class="readonly">([^<]*)</div>', html, re.S))
        assert shown and all(v.strip() == "低保对象" for v in shown), (url, shown)
