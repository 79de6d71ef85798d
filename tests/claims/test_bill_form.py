"""The bill form, person first (issue 11): the ID number shows whose bill it is — name, town, the
identities held on the settlement date and what each cap has left this year — then the stay or visit,
the insurance layers and the payee; the clerk's note reaches the reviewer on the bill page."""

import re
from datetime import date

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_person_card_shows_name_town_identities_and_what_each_cap_has_left(people, decided_bill, staff, login):
    decided_bill(people["slh"], settled_on=date(2025, 4, 9))  # uses part of this year's inpatient cap
    client = login(staff["district_clerk"])
    card = client.get(reverse("claims:bill-person"), {"id_number": people["slh"].id_number,
                                                      "settled_on": "2025-05-02"}).content.decode()
    assert "张双龙" in card and "双龙湖街道" in card and people["slh"].id_number not in card  # masked
    assert "2025年5月2日（结算日）持有身份：" in card and "低保" in card
    caps = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card.split('data-testid="person-caps"')[1]))
    assert "本年剩余" in caps and re.search(r"\d{1,3}(,\d{3})*\.\d{2}", caps)
    # a different year: nothing used yet
    other = client.get(reverse("claims:bill-person"), {"id_number": people["slh"].id_number, "settled_on": "2026-05-02"})
    assert "0.00" in other.content.decode()


def test_the_person_card_explains_a_wrong_or_unknown_number(people, staff, login):
    client = login(staff["district_clerk"])
    bad = people["slh"].id_number[:17] + ("0" if people["slh"].id_number[17] != "0" else "1")
    assert "公民身份号码有误" in client.get(reverse("claims:bill-person"), {"id_number": bad}).content.decode()
    assert "请输入18位公民身份号码" in client.get(reverse("claims:bill-person"), {"id_number": "5001"}).content.decode()
    from tests.conftest import valid_id

    unknown = valid_id(date(1971, 1, 1), 555)
    assert "没有找到此人" in client.get(reverse("claims:bill-person"), {"id_number": unknown}).content.decode()
    # a town clerk does not enter bills, and gets no card
    assert login(staff["slh_clerk"]).get(reverse("claims:bill-person"), {"id_number": people["slh"].id_number}).status_code == 403


def test_the_form_asks_person_first_then_visit_insurance_and_payee(staff, login):
    page = login(staff["district_clerk"]).get(reverse("claims:bill-new")).content.decode()
    order = [page.index(f'data-testid="{s}"') for s in ("step-person", "step-visit", "step-insurance", "step-payee")]
    assert order == sorted(order)
    person_step = page[order[0]:order[1]]
    assert 'name="id_number"' in person_step and 'hx-get="/claims/bills/person/"' in person_step
    assert 'name="settled_on"' in page[order[1]:order[2]] and 'name="basic_paid"' in page[order[2]:order[3]]
    assert 'name="bank_account"' in page[order[3]:]
    assert "/static/vendor/htmx/htmx.min.js" in page


def test_the_clerks_note_is_shown_to_the_reviewer(people, decided_bill, staff, login):
    bill = decided_bill(people["slh"], note="患者住院期间转院一次，两张票据合并录入")
    page = login(staff["reviewer"]).get(reverse("claims:bill-detail", args=[bill.pk])).content.decode()
    assert "经办备注" in page and "患者住院期间转院一次，两张票据合并录入" in page
