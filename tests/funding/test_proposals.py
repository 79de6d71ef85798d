"""Money keyed in by hand goes through maker–checker on the journal page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from funding import services
from funding.models import Account, EntryProposal, JournalEntry

pytestmark = pytest.mark.django_db


def balance(code):
    return services.account_balance(Account.objects.get(code=code))


def propose(client, **over):
    data = {"account": "SPECIAL", "kind": "INCOME_CENTRAL", "counterpart": "CENTRAL", "amount": "120000.00", "on": "2025-03-03",
            "source_document": "财社〔2025〕8号", "description": "中央医疗救助补助资金"}
    data.update(over)
    return client.post(reverse("funding:ledger"), data)


def test_income_is_written_only_when_someone_else_approves_it(staff, login):
    propose(login(staff["finance"]))
    p = EntryProposal.objects.get()
    assert balance("SPECIAL") == 0
    # the maker cannot approve their own entry
    login(staff["finance"]).post(reverse("funding:proposal-decide", args=[p.pk]), {"approve": "1"})
    assert balance("SPECIAL") == 0
    login(staff["reviewer"]).post(reverse("funding:proposal-decide", args=[p.pk]), {"approve": "1"})
    p.refresh_from_db()
    assert p.status == "approved" and p.entry.entered_by == staff["finance"] and p.entry.approved_by == staff["reviewer"]
    assert balance("SPECIAL") == Decimal("120000.00")
    # approving twice (double click) writes nothing more
    login(staff["reviewer"]).post(reverse("funding:proposal-decide", args=[p.pk]), {"approve": "1"})
    assert JournalEntry.objects.count() == 1


def test_the_veterans_fund_refuses_a_central_transfer_on_the_form(staff, login):
    resp = propose(login(staff["finance"]), account="YOUFU")
    assert "不接收" in resp.content.decode()
    assert not EntryProposal.objects.exists()


def test_a_reversal_is_proposed_then_approved_and_the_balance_returns(staff, login, fund):
    entry = fund("SPECIAL", "500.00")
    login(staff["finance"]).post(reverse("funding:entry-reverse", args=[entry.pk]), {"reason": "重复登记"})
    p = EntryProposal.objects.get(kind="REVERSAL")
    login(staff["reviewer"]).post(reverse("funding:proposal-decide", args=[p.pk]), {"approve": "1"})
    assert balance("SPECIAL") == Decimal("0.00")
    assert JournalEntry.objects.get(reverses=entry).kind == "REVERSAL"


def test_town_clerks_reach_no_ledger_fund_request_pdf_or_bank_file(staff, login, make_person, fund):
    from datetime import date

    p = make_person("自缴甲")
    rep = services.selfpaid_report(person=p, year=2025, enrolment="RESIDENT_T1", paid_amount=Decimal("400"), bank_name="农行",
                                   bank_account="622800001", account_holder="自缴甲", user=staff["slh_clerk"], today=date(2025, 3, 2))
    services.selfpaid_decide(report_id=rep.pk, approve=True, user=staff["district_clerk"], on=date(2025, 3, 3))
    fund("SPECIAL", "5000.00")
    req = services.fund_request_create(year=2025, month=3, user=staff["district_clerk"])
    services.fund_request_submit(request_id=req.pk, user=staff["reviewer"])
    services.fund_request_record_transfer(request_id=req.pk, on=date(2025, 3, 20), source_document="x", entered_by=staff["finance"],
                                          approved_by=staff["reviewer"])
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=staff["finance"])
    client = login(staff["slh_clerk"])
    for url in (reverse("funding:ledger"), reverse("funding:request-pdf", args=[req.pk]), reverse("funding:request-detail", args=[req.pk]),
                reverse("funding:batch-xlsx", args=[batch.pk])):
        resp = client.get(url)
        assert resp.status_code == 403, url
        assert b"622800001" not in resp.content
    assert client.post(reverse("funding:request-pdf", args=[req.pk])).status_code == 403  # the button's POST too
    assert client.post(reverse("funding:report-pdf"), {"year": 2025, "month": 3}).status_code == 403
    from yfbz.core.models import ExportJob

    assert not ExportJob.objects.exists()


def test_an_institution_at_fault_owes_money_and_its_recovery_is_booked_after_a_second_person_approves(staff, login):
    login(staff["district_clerk"]).post(reverse("funding:receivables"), {
        "debtor_name": "某民营医院", "fund": "ASSISTANCE", "amount": "8600.00", "source_key": "渝北医保稽〔2025〕3号",
        "reason": "虚构住院，追回已结算医疗救助资金"})
    from funding.models import Receivable

    rec = Receivable.objects.get()
    assert (rec.amount, rec.status) == (Decimal("8600.00"), "open")
    fin = login(staff["finance"])
    fin.post(reverse("funding:receivable-recover", args=[rec.pk]), {"amount": "9000.00", "on": "2025-03-10", "source_document": "缴款书1"})
    assert not EntryProposal.objects.exists()  # more than owed: refused
    fin.post(reverse("funding:receivable-recover", args=[rec.pk]), {"amount": "6000.00", "on": "2025-03-10", "source_document": "缴款书1"})
    p = EntryProposal.objects.get(kind="RECOVERY")
    assert balance("EXPENDITURE") == 0
    login(staff["reviewer"]).post(reverse("funding:proposal-decide", args=[p.pk]), {"approve": "1"})
    rec.refresh_from_db()
    assert (rec.recovered, rec.status) == (Decimal("6000.00"), "partly")
    assert balance("EXPENDITURE") == Decimal("6000.00")
    assert EntryProposal.objects.get(pk=p.pk).entry.receivable == rec


def test_the_ledger_offers_no_second_reversal_and_says_where_each_entry_stands(staff, login, fund):
    entry = fund("SPECIAL", "500.00")
    finance = login(staff["finance"])

    def row_of(number):
        page = finance.get(reverse("funding:ledger")).content.decode()
        return next(r for r in page.split("<tr>") if r.startswith(f'<td class="mono">{number}<'))

    assert 'placeholder="冲销原因"' in row_of(entry.number)
    finance.post(reverse("funding:entry-reverse", args=[entry.pk]), {"reason": "重复登记"})
    waiting = row_of(entry.number)
    assert "冲销待审核" in waiting and 'placeholder="冲销原因"' not in waiting
    p = EntryProposal.objects.get(kind="REVERSAL")
    login(staff["reviewer"]).post(reverse("funding:proposal-decide", args=[p.pk]), {"approve": "1"})
    reversal = JournalEntry.objects.get(reverses=entry)
    done = row_of(entry.number)
    assert f"已冲销（冲销凭证 {reversal.number}）" in done and 'placeholder="冲销原因"' not in done
