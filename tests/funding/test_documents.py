"""Documents the finance bureau and the bank receive (issue 11): the fund request form with totals in figures and
大写 per fund, per spending category and per scheme by name, and a sign-off block (经办、审核、负责人 with dates);
the bank payment file's 用途 in words and its amounts as numbers at two decimals with separators; the month
report's amounts. No code (ASSISTANCE, BENEFIT_PERSON, MAJOR_DISEASE, ONE_STOP …) reaches any of them."""

import io
import re
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from funding import services
from funding.payables import PROVIDERS, Payable, Provider, register_provider
from tests.document_jobs import pdf_of

pytestmark = pytest.mark.django_db
CODES = re.compile(r"\b(ASSISTANCE|YOUFU|SUBSIDY|BENEFIT_PERSON|INSTITUTION|MAJOR_DISEASE|LARGE_EXPENSE|INPATIENT|"
                   r"OUTPATIENT|ONE_STOP|draft|submitted|funded)\b")


def pdf_text(content: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()


@pytest.fixture
def benefits():
    """Two people's benefits by scheme and one institution's one-stop total, from a provider of the registry."""
    rows = [
        Payable("doc-1", "PERSON", "重大甲", "农行", "6228000000000001", "ASSISTANCE", "BENEFIT_PERSON", "MAJOR_DISEASE",
                None, Decimal("41209.28")),
        Payable("doc-2", "PERSON", "住院乙", "农行", "6228000000000002", "ASSISTANCE", "BENEFIT_PERSON", "INPATIENT",
                None, Decimal("1000.50")),
        Payable("doc-3", "INSTITUTION", "渝北区人民医院", "农商行", "9100YB001", "ASSISTANCE", "INSTITUTION", "ONE_STOP",
                None, Decimal("12345.67")),
        Payable("doc-4", "PERSON", "遗属丙", "农行", "6228000000000004", "YOUFU", "BENEFIT_PERSON", "YOUFU",
                None, Decimal("321.50")),
    ]
    register_provider(Provider("test_docs", lambda *, year, month: rows, lambda *, source_keys, paid_on, user: None))
    yield rows
    PROVIDERS.pop("test_docs")


def test_the_fund_request_form_has_totals_in_figures_and_capitals_per_fund_category_and_scheme_and_a_sign_off(
        benefits, staff, login, fund, django_capture_on_commit_callbacks):
    staff["district_clerk"].full_name = "经办张"
    staff["district_clerk"].save()
    staff["reviewer"].full_name = "审核李"
    staff["reviewer"].save()
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    form_url = reverse("funding:request-pdf", args=[req.pk])
    text = pdf_text(pdf_of(login(staff["finance"]), form_url, django_capture_on_commit_callbacks))
    flat = re.sub(r"\s+", "", text)
    assert "医疗救助资金申请表" in flat and req.number in flat
    # per fund, in figures and in capitals; the grand total too
    assert "医疗救助资金54,555.45伍万肆仟伍佰伍拾伍元肆角伍分" in flat
    assert "优抚对象医疗补助资金321.50叁佰贰拾壹元伍角整" in flat
    assert "合计54,876.95伍万肆仟捌佰柒拾陆元玖角伍分" in flat
    # per spending category and per scheme by name
    assert "个人救助待遇42,209.78" in flat and "定点医疗机构一站式结算12,345.67" in flat
    assert "重特大疾病医疗救助141,209.28" in flat and "普通疾病住院医疗救助11,000.50" in flat
    assert "一站式结算112,345.67" in flat
    assert not CODES.search(text), CODES.search(text)
    # the sign-off block: who drew it up and when; the reviewer and the head sign later
    assert "经办" in flat and "审核" in flat and "负责人" in flat and "经办张" in flat
    made = timezone.localdate(req.created_at)
    assert f"{made.year}年{made.month}月{made.day}日" in flat
    assert "审核李" not in flat and "年月日" in flat

    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    flat = re.sub(r"\s+", "", pdf_text(pdf_of(login(staff["finance"]), form_url, django_capture_on_commit_callbacks)))
    assert "审核李" in flat


def test_the_bank_file_says_what_each_payment_is_for_in_words(benefits, staff, login, fund):
    fund("SPECIAL", "100000.00")
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 20), source_document="财拨1",
                                          entered_by=staff["finance"], approved_by=staff["reviewer"])
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=staff["finance"])
    wb = load_workbook(io.BytesIO(login(staff["finance"]).get(reverse("funding:batch-xlsx", args=[batch.pk])).content))
    rows = list(wb["代发明细"].iter_rows(min_row=2))
    purposes = {r[1].value: r[5].value for r in rows}
    assert purposes == {"重大甲": "个人救助待遇（重特大疾病医疗救助）", "住院乙": "个人救助待遇（普通疾病住院医疗救助）",
                        "渝北区人民医院": "定点医疗机构一站式结算（一站式结算）"}
    amounts = {r[1].value: r[4] for r in rows}
    assert Decimal(str(amounts["重大甲"].value)) == Decimal("41209.28")
    assert all(c.number_format == "#,##0.00" for c in amounts.values())


def test_the_month_report_shows_amounts_with_separators_and_schemes_by_name(benefits, staff, login, fund,
                                                                           django_capture_on_commit_callbacks):
    fund("SPECIAL", "100000.00")
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 20), source_document="财拨1",
                                          entered_by=staff["finance"], approved_by=staff["reviewer"])
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=staff["finance"])
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=date(2025, 3, 28), failures={}, user=staff["reviewer"])
    client = login(staff["auditor"])
    for content in (client.get(reverse("funding:report"), {"year": 2025, "month": 3}).content.decode(),
                    pdf_text(pdf_of(client, reverse("funding:report-pdf"), django_capture_on_commit_callbacks,
                                    {"year": 2025, "month": 3}))):
        assert "41,209.28" in content and "重特大疾病医疗救助" in content and "45,444.55" in content
        assert "MAJOR_DISEASE" not in content and "ONE_STOP" not in content
        assert not re.search(r"\d\.\d{3,}", re.sub(r"<[^>]+>", " ", content))


def test_downloads_are_named_in_chinese_never_by_town_id(benefits, staff, login, towns, django_capture_on_commit_callbacks):
    from urllib.parse import unquote

    from tests.document_jobs import download, press

    def name(resp):
        assert resp.status_code == 200, resp.status_code
        return unquote(resp["Content-Disposition"].split("filename*=UTF-8''")[1])

    assert name(login(staff["slh_clerk"]).get(reverse("funding:tax-list", args=[2025]))) == "双龙湖街道-2025年资助参保税务名单.xlsx"
    district = login(staff["district_clerk"])
    assert name(district.get(reverse("funding:tax-list", args=[2025]), {"town": towns["HX"].pk})) == "回兴街道-2025年资助参保税务名单.xlsx"
    assert name(district.get(reverse("funding:gap-list", args=[2025]))) == "全区-2025年漏保断保名单.xlsx"
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    _, job = press(district, reverse("funding:request-pdf", args=[req.pk]), django_capture_on_commit_callbacks)
    assert name(download(district, job)) == f"2025年3月医疗救助资金申请表-{req.number}.pdf"
    auditor = login(staff["auditor"])
    _, job = press(auditor, reverse("funding:report-pdf"), django_capture_on_commit_callbacks, {"year": 2025, "month": 3})
    assert name(download(auditor, job)) == "医疗救助资金2025年3月收支报表.pdf"
    assert name(login(staff["auditor"]).get(reverse("funding:report"), {"year": 2025, "month": 3, "format": "xlsx"})) == \
        "医疗救助资金2025年3月收支报表.xlsx"
