"""Issue 10, "one status mechanism": payable lines, payments, payment batches, receivables, self-paid
reports and proposed entries move only through ``yfbz.core.workflow.transition`` (moves declared on the
model, one append-only history row per move). A scan of the code proves no status is set anywhere
else; an illegal move is refused in Chinese and changes nothing; the admin stays read-only."""

from __future__ import annotations

import ast
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from funding import services
from funding.models import (
    EntryProposal,
    FundRequest,
    PayableLine,
    Payment,
    PaymentBatch,
    Receivable,
    SelfPaidReport,
)
from funding.services.requests import fund_request_totals
from tests.claims.conftest import enter_bill, institutions  # noqa: F401
from tests.funding import test_verify_books as _verify
from yfbz.core import errors, workflow
from yfbz.core.adminlock import HistoryInline, ReadOnlyAdmin
from yfbz.core.errors import TransitionRefused

pytestmark = pytest.mark.django_db

books = _verify.books  # the fixture: a month of money, paid and waiting, and a route (b) subsidy approved
run_verify = _verify.run_verify

ROOT = Path(__file__).resolve().parents[2]
ONE_DOOR = (PayableLine, Payment, PaymentBatch, Receivable, SelfPaidReport, EntryProposal)
NAMES = {m.__name__ for m in ONE_DOOR}
# reverse relations that reach these models from another record (req.lines, batch.payments …)
RELATED = {"lines", "payments", "batches"}
TABLES = {m._meta.db_table for m in ONE_DOOR}


# --- the scan ---------------------------------------------------------------------------------------
def _mentions_status_of(node: ast.AST, aliases: set[str]) -> bool:
    """``PayableLine.Status.PAID`` (or ``S.PAID`` with ``S = PayableLine.Status``) anywhere in ``node``."""
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and n.attr == "Status" and isinstance(n.value, ast.Name) and n.value.id in NAMES:
            return True
        if isinstance(n, ast.Name) and n.id in aliases:
            return True
    return False


def _root(node: ast.AST) -> tuple[str | None, set[str]]:
    """The name a call chain starts from and the attributes it passes (``PayableLine.objects.filter().update``)."""
    attrs = set()
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            attrs.add(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return (node.id if isinstance(node, ast.Name) else None), attrs


def status_writes(source: str, where: str = "<code>", *, funding: bool = True) -> list[str]:
    """Every place of ``source`` that sets the status of one of ONE_DOOR's models outside the workflow
    (in funding's own code any ``save(update_fields=[… "status" …])`` too: its stateful models all move
    through the workflow, its jobs through yfbz.core.jobs)."""
    tree = ast.parse(source)
    aliases = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Attribute)
               and n.value.attr == "Status" and isinstance(n.value.value, ast.Name) and n.value.value.id in NAMES
               for t in n.targets if isinstance(t, ast.Name)}
    found = []
    for n in ast.walk(tree):
        if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in flat) and n.value is not None \
                    and _mentions_status_of(n.value, aliases):
                found.append(f"{where}:{n.lineno}: .status = …")
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
            name = n.func.attr
            kw = {k.arg: k.value for k in n.keywords if k.arg}
            root, attrs = _root(n.func.value)
            ours = root in NAMES or bool(attrs & RELATED)
            if name == "update" and "status" in kw and (ours or _mentions_status_of(kw["status"], aliases)):
                found.append(f"{where}:{n.lineno}: update(status=…)")
            if name in ("save", "bulk_update") and (ours or funding):
                fields = kw.get("update_fields") or (n.args[1] if name == "bulk_update" and len(n.args) > 1 else None)
                if fields is not None and "status" in ast.unparse(fields):
                    found.append(f"{where}:{n.lineno}: {name}(… 'status' …)")
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            text = n.value.lower()
            if "update" in text and "status" in text and any(t in text for t in TABLES):
                found.append(f"{where}:{n.lineno}: SQL UPDATE … status")
    return found


def _sources():
    skip = {"migrations", "tests", ".venv", "node_modules", "static", "bench"}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if skip & set(rel.parts) or rel.as_posix() == "yfbz/core/workflow.py":
            continue
        yield rel.as_posix(), path.read_text(encoding="utf-8")


def test_the_scan_catches_every_way_of_setting_a_status_directly():
    bad = '''
S = SelfPaidReport.Status
line.status = PayableLine.Status.PAID
report.status, report.note = S.APPROVED, note
PayableLine.objects.filter(pk=1).update(status="paid")
req.lines.filter(status="pending").update(status="in_batch")
Payment.objects.filter(batch=b).update(status=Payment.Status.PAID)
rec.save(update_fields=["recovered", "status"]) if False else Receivable.objects.bulk_update(rows, ["status"])
cur.execute('UPDATE "funding_payableline" SET "status" = %s')
'''
    assert len(status_writes(bad)) == 8, status_writes(bad)
    good = '''
transition(line, PayableLine.Status.PAID, by=user, reason="银行回单")
lines = PayableLine.objects.filter(status=PayableLine.Status.PENDING)
bill.status = Bill.Status.APPROVED
'''
    assert status_writes(good) == []


def test_no_status_of_these_models_is_set_outside_the_workflow():
    found = [f for rel, text in _sources() for f in status_writes(text, rel, funding=rel.startswith("funding/"))]
    assert found == [], "status set outside yfbz.core.workflow.transition:\n" + "\n".join(found)


def test_each_model_declares_its_moves_and_has_an_append_only_history():
    for model in ONE_DOOR:
        assert workflow.moves_of(model), model
        h = workflow.history_model(model)
        assert h._meta.get_field(h.SUBJECT).remote_field.on_delete.__name__ == "PROTECT"
    with connection.cursor() as cur:
        cur.execute("SELECT event_object_table FROM information_schema.triggers WHERE trigger_name LIKE %s", ["%append_only"])
        guarded = {r[0] for r in cur.fetchall()}
    assert {workflow.history_model(m)._meta.db_table for m in ONE_DOOR} <= guarded


def test_the_admin_shows_them_read_only_with_their_history():
    for model in ONE_DOOR:
        model_admin = admin.site._registry[model]
        assert isinstance(model_admin, ReadOnlyAdmin), model
        assert any(issubclass(i, HistoryInline) and i.model is workflow.history_model(model) for i in model_admin.inlines), model


def test_the_admin_change_page_offers_no_save_and_a_post_changes_nothing(books, client, admin_user):
    line = books["paid"]
    client.force_login(admin_user)
    url = f"/admin/funding/payableline/{line.pk}/change/"
    page = client.get(url).content.decode()
    assert "状态记录" in page and "已支付" in page and 'name="_save"' not in page
    client.post(url, {"status": "pending", "amount": "1.00"})
    line.refresh_from_db()
    assert line.status == "paid" and line.amount != Decimal("1.00")


# --- the moves, as a user sees them ------------------------------------------------------------------
def moves(obj):
    return [(h.from_status, h.to_status) for h in workflow.history_of(obj)]


def test_a_month_of_money_leaves_one_history_row_per_move(books, staff):
    line, report = books["paid"], books["report"]
    line.refresh_from_db()
    report.refresh_from_db()
    assert moves(line) == [("", "pending"), ("pending", "in_batch"), ("in_batch", "paid")]
    payment = Payment.objects.get(line=line)
    assert moves(payment) == [("", "sent"), ("sent", "paid")]
    assert moves(payment.batch) == [("", "exported"), ("exported", "confirmed")]
    assert [h.by for h in workflow.history_of(payment.batch)] == [staff["finance"], staff["reviewer"]]
    assert moves(report) == [("", "reported"), ("reported", "approved")]
    assert workflow.history_of(report).last().by == staff["district_clerk"]
    waiting = PayableLine.objects.get(source_key=f"decision:{books['decisions'][1].pk}:ASSISTANCE")
    assert moves(waiting) == [("", "pending")]
    code, out = run_verify()
    assert code == 0, out


def test_a_failed_payment_goes_back_to_pending_then_is_paid_by_a_second_batch(books, staff):
    fin, rev = staff["finance"], staff["reviewer"]
    req = books["request"]
    waiting = PayableLine.objects.get(source_key=f"decision:{books['decisions'][1].pk}:ASSISTANCE")
    services.payable_correct_bank(line_id=waiting.pk, bank_name="农行", bank_account="6228480001", user=fin)
    batch = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=fin)
    first = batch.payments.get()
    services.payment_batch_confirm(batch_id=batch.pk, paid_on=date.today(), failures={first.pk: "户名不符"}, user=rev)
    waiting.refresh_from_db()
    assert waiting.status == "pending"
    assert moves(first) == [("", "sent"), ("sent", "failed")]
    assert workflow.history_of(first).last().reason.endswith("户名不符")
    again = services.payment_batch_create(request_id=req.pk, fund="ASSISTANCE", user=fin)
    services.payment_batch_confirm(batch_id=again.pk, paid_on=date.today(), failures={}, user=rev)
    assert moves(waiting) == [("", "pending"), ("pending", "in_batch"), ("in_batch", "pending"), ("pending", "in_batch"),
                              ("in_batch", "paid")]
    code, out = run_verify()
    assert code == 0, out


def test_a_cancelled_request_keeps_its_lines_cancelled_and_frees_them_for_the_next(enter_bill, people, staff):  # noqa: F811
    from claims.services import bill_decide, decision_approve

    clerk, rev = staff["district_clerk"], staff["reviewer"]
    bill = enter_bill(people["slh"], settled_on=date(2025, 4, 9))
    bill_decide(bill_id=bill.pk, user=clerk)
    d = decision_approve(bill_id=bill.pk, user=rev)
    on = timezone.localtime(d.reviewed_at).date()
    draft = services.fund_request_create(year=on.year, month=on.month, user=clerk)
    services.fund_request_cancel(request_id=draft.pk, user=rev, reason="金额有误")
    old = PayableLine.objects.get(request=draft)
    assert old.status == "cancelled" and moves(old) == [("", "pending"), ("pending", "cancelled")]
    assert workflow.history_of(old).last().reason == f"资金申请 {draft.number} 作废：金额有误"
    nxt = services.fund_request_create(year=on.year, month=on.month, user=clerk)
    assert PayableLine.objects.get(request=nxt).source_key == old.source_key
    assert fund_request_totals(FundRequest.objects.get(pk=draft.pk)) == []  # a cancelled request pays nothing
    code, out = run_verify()
    assert code == 0, out


def test_a_receivable_and_its_recoveries_move_by_maker_and_checker(staff):
    fin, rev = staff["finance"], staff["reviewer"]
    rec = services.receivable_open(source_key="R-1", debtor_name="某医院", fund="ASSISTANCE", amount=Decimal("300.00"),
                                   reason="重复结算", user=fin)
    for amount in ("100.00", "50.00", "150.00"):
        p = services.proposal_recovery(receivable_id=rec.pk, amount=Decimal(amount), on=date(2025, 5, 6),
                                       source_document=f"缴款书{amount}", user=fin)
        services.proposal_decide(proposal_id=p.pk, approve=True, user=rev)
        assert moves(p) == [("", "pending"), ("pending", "approved")]
    rec.refresh_from_db()
    assert rec.status == "settled" and rec.recovered == Decimal("300.00")
    assert moves(rec) == [("", "open"), ("open", "partly"), ("partly", "partly"), ("partly", "settled")]
    assert [h.by for h in workflow.history_of(rec)][1:] == [rev, rev, rev]


@pytest.mark.parametrize("what,to,frm_zh,to_zh", [
    ("line", "pending", "已支付", "待支付"),
    ("payment", "failed", "已支付", "支付失败"),
    ("batch", "exported", "银行已回单", "已生成支付文件"),
    ("report", "rejected", "区医保已审核", "已退回"),
])
def test_an_illegal_move_is_refused_in_chinese_and_changes_nothing(books, staff, what, to, frm_zh, to_zh):
    obj = {"line": books["paid"], "payment": Payment.objects.get(line=books["paid"]),
           "batch": PaymentBatch.objects.get(payments__line=books["paid"]), "report": books["report"]}[what]
    obj.refresh_from_db()
    before = moves(obj)
    status = obj.status
    with pytest.raises(TransitionRefused) as caught, transaction.atomic():
        workflow.transition(obj, to, by=staff["reviewer"], reason="试图改回")
    assert caught.value.template is errors.MOVE_REFUSED
    assert str(caught.value) == f"{obj._meta.verbose_name}{obj.pk}当前为“{frm_zh}”，不能改为“{to_zh}”。"
    obj.refresh_from_db()
    assert obj.status == status and moves(obj) == before


def test_a_settled_receivable_and_a_decided_proposal_cannot_move_again(staff):
    fin, rev = staff["finance"], staff["reviewer"]
    rec = services.receivable_open(source_key="R-2", debtor_name="某医院", fund="ASSISTANCE", amount=Decimal("80.00"),
                                   reason="多付", user=fin)
    p = services.proposal_recovery(receivable_id=rec.pk, amount=Decimal("80.00"), on=date(2025, 5, 6), source_document="缴款书1",
                                   user=fin)
    services.proposal_decide(proposal_id=p.pk, approve=True, user=rev)
    rec.refresh_from_db()
    p.refresh_from_db()
    with pytest.raises(TransitionRefused, match="应收款.*当前为“已追回”，不能改为“部分追回”"):
        workflow.transition(rec, Receivable.Status.PARTLY, by=rev)
    with pytest.raises(TransitionRefused, match="待审核凭证.*当前为“已记账”，不能改为“已退回”"):
        workflow.transition(p, EntryProposal.Status.REJECTED, by=rev)
    # a stale copy of a proposal decided meanwhile is refused too (the status is updated conditionally)
    stale = EntryProposal.objects.get(pk=p.pk)
    stale.status = EntryProposal.Status.PENDING  # as it was read before the decision
    with pytest.raises(TransitionRefused, match="当前为“已记账”"):
        workflow.transition(stale, EntryProposal.Status.REJECTED, by=rev)


def test_the_history_of_a_payment_cannot_be_rewritten_in_the_database(books):
    h = workflow.history_of(Payment.objects.get(line=books["paid"])).last()
    with pytest.raises(DatabaseError, match="状态记录只能追加"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f'UPDATE "{h._meta.db_table}" SET to_status = %s WHERE id = %s', ["failed", h.pk])
