"""In Chromium: the leadership dashboard draws every chart with the vendored ECharts under the
site's Content-Security-Policy (no console error, no request leaving the site), each chart beside
its table; screenshots are kept under test-results/."""

from pathlib import Path

import pytest

from yfbz.core.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
OUT = Path(__file__).resolve().parents[2] / "test-results"


def test_the_dashboard_draws_its_charts_in_the_browser(year_2025, make_user, page, browser_login, live_server):
    make_user("leader", Role.LEADERSHIP)
    errors, outside = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 404" not in m.text else None)
    missing = []  # the browser asks for /favicon.ico by itself; anything else missing is a fault
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 and not r.url.endswith("/favicon.ico") else None)
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    browser_login("leader")
    page.goto("/reporting/dashboard/?year=2025")
    page.wait_for_selector("div.chart[data-drawn]")
    page.wait_for_timeout(300)
    assert page.locator("div.chart[data-drawn]").count() == 5
    assert page.locator("div.chart svg").count() == 5  # drawn as SVG by ECharts
    assert page.locator("table.chart-table").count() == 5
    assert "4,000.00" in page.get_by_test_id("chart-table-months").inner_text()  # April: E1
    assert errors == [] and outside == [] and missing == []
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / "reporting-dashboard.png"), full_page=True)
