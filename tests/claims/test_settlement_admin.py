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
