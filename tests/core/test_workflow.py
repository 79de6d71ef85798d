"""The one status mechanism (yfbz.core.workflow): moves as data, one door that refuses the rest,
an append-only history that the database itself protects, labels in Chinese."""

from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from yfbz.core import errors, workflow
from yfbz.core.errors import TransitionRefused, YfbzError

pytestmark = pytest.mark.django_db


@pytest.fixture
def fund_request(staff):
    from funding.models import FundRequest

    req = FundRequest.objects.create(year=2025, month=3, number="ZJ202503-01", created_by=staff["district_clerk"])
    workflow.record_start(req, by=staff["district_clerk"], reason="编制")
    return req


def test_an_allowed_move_changes_the_status_and_appends_who_when_from_to_why(fund_request, staff):
    workflow.transition(fund_request, "submitted", by=staff["reviewer"], reason="审核报送财政")
    fund_request.refresh_from_db()
    assert fund_request.status == "submitted"
    rows = list(workflow.history_of(fund_request))
    assert [(r.from_status, r.to_status, r.by.username, r.reason) for r in rows] == [
        ("", "draft", "district_clerk", "编制"),
        ("draft", "submitted", "reviewer", "审核报送财政"),
    ]
    assert [(r.from_label, r.to_label) for r in rows] == [("新建", "草稿"), ("草稿", "已审核报送")]


def test_a_move_the_model_does_not_list_is_refused_with_its_message_and_nothing_changes(fund_request, staff):
    with pytest.raises(TransitionRefused) as caught:
        workflow.transition(fund_request, "funded", by=staff["finance"], reason="")
    assert caught.value.template is errors.MOVE_REFUSED
    assert str(caught.value) == "资金申请" + str(fund_request.pk) + "当前为“草稿”，不能改为“财政已划拨”。"
    fund_request.refresh_from_db()
    assert fund_request.status == "draft"
    assert workflow.history_of(fund_request).count() == 1


def test_a_move_that_needs_a_reason_is_refused_without_one(fund_request, staff):
    with pytest.raises(YfbzError) as caught:
        workflow.transition(fund_request, "cancelled", by=staff["district_clerk"], reason="  ")
    assert caught.value.template is errors.REASON_REQUIRED


def test_a_record_changed_by_someone_else_since_it_was_read_is_refused(fund_request, staff):
    from funding.models import FundRequest

    stale = FundRequest.objects.get(pk=fund_request.pk)
    workflow.transition(fund_request, "cancelled", by=staff["district_clerk"], reason="编错了")
    with pytest.raises(TransitionRefused) as caught:
        workflow.transition(stale, "submitted", by=staff["reviewer"])
    assert "已作废" in str(caught.value)
    assert FundRequest.objects.get(pk=fund_request.pk).status == "cancelled"


def test_history_rows_cannot_be_changed_or_deleted_through_django(fund_request):
    row = workflow.history_of(fund_request).get()
    row.reason = "改过"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        type(row).objects.filter(pk=row.pk).update(reason="改过")
    with pytest.raises(PermissionError):
        type(row).objects.filter(pk=row.pk).delete()


@pytest.mark.postgres
@pytest.mark.parametrize("sql", ["UPDATE {t} SET reason = 'x'", "DELETE FROM {t}"])
def test_the_database_refuses_update_and_delete_of_a_history_row(fund_request, sql):
    if connection.vendor != "postgresql":
        pytest.skip("trigger is PostgreSQL only")
    table = workflow.history_model(type(fund_request))._meta.db_table
    with pytest.raises(DatabaseError, match="状态记录只能追加"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql.format(t=table))


@pytest.mark.postgres
def test_every_history_table_has_the_append_only_trigger():
    if connection.vendor != "postgresql":
        pytest.skip("trigger is PostgreSQL only")
    with connection.cursor() as cur:
        cur.execute("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE %s", ["%_append_only"])
        protected = {r[0] for r in cur.fetchall()}
    tables = {m._meta.db_table for m in workflow.history_models()}
    assert tables and tables <= protected


def test_a_record_with_a_history_cannot_be_deleted(fund_request):
    with pytest.raises(ProtectedError):
        fund_request.delete()


def test_every_stateful_model_has_a_protected_history_and_its_moves_use_known_statuses():
    assert workflow.check_workflows() == []
    subjects = {h.subject_model().__name__ for h in workflow.history_models()}
    assert {"Bill", "RosterUpload", "FundRequest"} <= subjects


def test_many_records_move_at_once_with_one_history_row_each_or_none_at_all(staff, people):
    from beneficiaries.models import Department, RosterUpload

    dept = Department.objects.get(code="CIVIL")
    ups = []
    for m in (1, 2, 3):
        up = RosterUpload.objects.create(department=dept, month=date(2025, m, 1), file_name=f"{m}.xlsx", sha256=str(m),
                                         uploaded_by=staff["district_clerk"])
        workflow.record_start(up, by=staff["district_clerk"], reason="上传")
        ups.append(up)
    workflow.transition(ups[2], "unreadable", by=None, reason="无法读取")
    qs = RosterUpload.objects.filter(pk__in=[u.pk for u in ups])
    with pytest.raises(TransitionRefused):
        workflow.transition_many(qs, "validated", by=None, reason="校验")
    assert sorted(qs.values_list("status", flat=True)) == ["unreadable", "uploaded", "uploaded"]
    assert workflow.transition_many(qs.filter(status="uploaded"), "rejected", by=staff["reviewer"], reason="整批退回") == 2
    assert sorted(qs.values_list("status", flat=True)) == ["rejected", "rejected", "unreadable"]
    last = [workflow.history_of(u).last() for u in ups[:2]]
    assert [(h.from_label, h.to_label, h.by.username, h.reason) for h in last] == [("已上传，待校验", "已退回", "reviewer", "整批退回")] * 2


def test_the_history_page_shows_statuses_in_chinese(fund_request, staff, login):
    workflow.transition(fund_request, "cancelled", by=staff["district_clerk"], reason="编错了")
    page = login(staff["finance"]).get(f"/funding/requests/{fund_request.pk}/").content.decode()
    history = page[page.index('data-testid="history"'):]
    history = history[:history.index("</table>")]
    assert "草稿" in history and "已作废" in history
    assert "draft" not in history and "cancelled" not in history
