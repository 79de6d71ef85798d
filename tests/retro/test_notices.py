"""Issue 16, defect 4 (the person is told): a re-decision's notice names the notice it replaces
(number and date), the new amount, and what the person must return — how and by when — or will
receive, and when. Read back from the PDF."""

import io
import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from beneficiaries.models import Category, Identity, RetroactiveChange
from claims.notices import notice_print
from claims.services import payables_mark_paid, retroactive_change_redecide

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", "", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def zh(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


@pytest.fixture
def paid_and_printed(decided_bill, approve, staff):
    """decide, approve, pay and print the notice of a bill: (bill, first decision, its notice)."""

    def do(person, settled_on):
        bill = decided_bill(person, settled_on=settled_on)
        d1 = approve(bill)
        payables_mark_paid(source_keys=[f"decision:{d1.pk}"], paid_on=date(2025, 12, 5), user=staff["finance"])
        _pdf, notice = notice_print(decision=d1, user=staff["district_clerk"])
        return bill, d1, notice

    return do


def redecide_and_print(person, staff, approve, bill):
    change = RetroactiveChange.objects.get(person=person)
    retroactive_change_redecide(change_id=change.pk, user=staff["district_clerk"])
    d2 = approve(bill)
    pdf, notice = notice_print(decision=d2, user=staff["district_clerk"])
    return d2, notice, pdf_text(pdf)


def test_a_refusal_after_a_paid_decision_replaces_the_notice_and_asks_for_the_money_back(make_person, paid_and_printed,
                                                                                         apply_roster, approve, staff):
    person = make_person("钱已领", categories=("DIBAO",))
    bill, d1, first = paid_and_printed(person, date(2025, 11, 3))
    apply_roster([(person.id_number, person.name, "低保", "双龙湖", "", "", "2025-10-31")])
    d2, notice, text = redecide_and_print(person, staff, approve, bill)
    assert notice.kind == "REFUSAL" and notice.doc_number != first.doc_number
    assert "不予救助决定书" in text
    assert f"{zh(first.issued_on)}作出的《医疗救助待遇核定通知书》（{first.doc_number}）" in text
    assert "取代原文书" in text and "低保对象身份提前终止" in text
    assert "由原核定的人民币4,000.00元变更为人民币0.00元" in text and "此前已向你支付4,000.00元" in text
    assert "多领取的人民币4,000.00元（大写：肆仟元整）应予退回" in text
    assert f"请于{zh(notice.issued_on + timedelta(days=30))}前到双龙湖街道便民服务中心或本局服务窗口缴回" in text


def test_a_lower_amount_says_what_to_return_and_never_a_top_up_of_nothing(make_person, paid_and_printed, apply_roster,
                                                                           approve, staff, settings):
    settings.YFBZ_REFUND_ACCOUNT = {"name": "渝北区医疗保障局医疗救助资金支出户", "bank": "重庆农村商业银行渝北支行",
                                    "number": "0101010101"}
    person = make_person("孙两证", categories=("DIBAO",))
    Identity.objects.create(person=person, category=Category.objects.get(code="ZHONGDU_CANJI"), valid_from=date(2024, 1, 1))
    bill, d1, first = paid_and_printed(person, date(2025, 11, 3))  # 低保 80%: 4,000.00
    apply_roster([(person.id_number, person.name, "低保", "双龙湖", "", "", "2025-10-31")])
    d2, notice, text = redecide_and_print(person, staff, approve, bill)  # 重度残疾 70%: 3,500.00
    assert d2.assistance == 3500
    assert notice.kind == "APPROVAL" and first.doc_number in text
    assert "本次应补发0.00元" not in text and "款项将转入" not in text
    assert "变更为人民币3,500.00元（大写：叁仟伍佰元整）" in text
    assert "多领取的人民币500.00元（大写：伍佰元整）应予退回" in text
    assert "缴入渝北区医疗保障局医疗救助资金支出户（开户银行：重庆农村商业银行渝北支行，账号：0101010101）" in text


def test_a_higher_amount_says_what_will_be_paid_and_when(make_person, paid_and_printed, apply_roster, approve, staff):
    person = make_person("杨建", categories=("YINBING_ZHIPIN",))
    bill, d1, first = paid_and_printed(person, date(2025, 11, 5))  # 70%: 3,500.00
    apply_roster([(person.id_number, "杨建", "低保", "双龙湖", "2025-10-01", "")])
    d2, notice, text = redecide_and_print(person, staff, approve, bill)
    reviewed = timezone.localdate(d2.reviewed_at)
    nxt = (reviewed.replace(day=28) + timedelta(days=10)).replace(day=1)
    month_end = (nxt.replace(day=28) + timedelta(days=10)).replace(day=1) - timedelta(days=1)
    assert "变更为人民币4,000.00元（大写：肆仟元整），此前已向你支付3,500.00元" in text
    assert f"本局将补发人民币500.00元（大写：伍佰元整），于{zh(month_end)}前转入杨建在重庆农村商业银行尾号0001的账户" in text
    assert "应予退回" not in text


def test_the_bill_page_shows_the_chain_with_each_difference_and_the_recovery(make_person, paid_and_printed, apply_roster,
                                                                             approve, staff, login):
    from django.urls import reverse

    person = make_person("链条", categories=("DIBAO",))
    bill, d1, first = paid_and_printed(person, date(2025, 11, 3))
    apply_roster([(person.id_number, person.name, "低保", "双龙湖", "", "", "2025-10-31")])
    d2, notice, _text = redecide_and_print(person, staff, approve, bill)
    page = login(staff["district_clerk"]).get(reverse("claims:bill-detail", args=[bill.pk])).content.decode()
    chain = page[page.index('data-testid="decision-chain"'):]
    assert first.doc_number in chain and notice.doc_number in chain
    assert "-4,000.00" in chain and "多付追回 4,000.00 元（应收款待追回，已追回0.00元）" in chain
    assert "此前已支付救助 4,000.00 元" in page
