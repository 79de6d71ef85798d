"""Assistance on application (依申请救助): registered by the town (委托代办), papers reviewed by the town,
decided by the district (maker ≠ checker) through workflow.transition with its history; a granted
application becomes a bill decided, approved and noticed the normal way; a person not yet certified is
referred to a department first; deadlines are dated data; every page scoped by town and in Chinese."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from beneficiaries.models import Department
from claims.models import Bill
from monitoring.deadlines import add_working_days
from monitoring.models import Application, ApplicationStatusChange, DeadlineRule, Referral

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n% a scan: binary bytes, not text\n\xff\xfe\x00\x01"
S = Application.Status


def client_of(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def form(person, **over):
    data = {
        "id_number": person.id_number, "on_behalf": "on", "agent_name": "张小明", "agent_relation": "儿子",
        "reason": "住院自付费用高，家庭困难", "kind": "INPATIENT", "admitted_on": "2025-06-01", "settled_on": "2025-06-10",
        "total_cost": "30000.00", "in_policy_cost": "25000.00", "basic_paid": "15000.00", "critical_paid": "2000.00",
        "account_holder": person.name, "bank_name": "重庆农村商业银行", "bank_account": "6214000011112222",
    }
    data.update(over)
    return data


@pytest.fixture
def inst(db):
    from claims.models import Institution

    return Institution.objects.create(code="YB01", name="渝北区人民医院", level=2)


def register(c, person, inst, **over):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = form(person, institution=inst.pk, **over)
    data["papers"] = [SimpleUploadedFile("申请书.pdf", PDF, "application/pdf")]
    resp = c.post("/monitoring/applications/new/", data)
    assert resp.status_code == 302, resp.content.decode()[:3000]
    return Application.objects.order_by("-pk").first()


def step(c, app, name, **data):
    resp = c.post(f"/monitoring/applications/{app.pk}/{name}/", data)
    assert resp.status_code == 302
    app.refresh_from_db()
    return resp


def test_an_application_from_registration_to_the_notice(make_person, staff, inst, make_user):
    from claims.services import bill_decide, decision_approve

    person = make_person("赵申请", town="SLH", categories=("DIBAO",))
    town = client_of(staff["slh_clerk"])
    app = register(town, person, inst)
    assert app.status == S.REGISTERED and app.on_behalf and app.agent_name == "张小明"
    assert app.papers.count() == 1
    assert app.due_on == add_working_days(timezone.localdate(), 5)  # the shipped (provisional) deadline
    page = town.get(f"/monitoring/applications/{app.pk}/").content.decode()
    assert "委托代办：张小明（儿子）" in page and "待镇街审核资料" in page and person.id_number not in page

    step(town, app, "review", complete="no", note="")  # incomplete needs what is missing
    assert app.status == S.REGISTERED
    step(town, app, "review", complete="no", note="缺费用清单")
    assert app.status == S.INCOMPLETE
    from django.core.files.uploadedfile import SimpleUploadedFile

    town.post(f"/monitoring/applications/{app.pk}/papers/", {"papers": [SimpleUploadedFile("费用清单.pdf", PDF)]})
    app.refresh_from_db()
    assert app.status == S.REGISTERED and app.papers.count() == 2
    step(town, app, "review", complete="yes")
    assert app.status == S.SUBMITTED and app.reviewed_by == staff["slh_clerk"]

    district = client_of(staff["district_clerk"])
    home = district.get("/").content.decode()
    assert "待初审的救助申请" in home
    step(district, app, "propose", opinion="GRANT", note="资料齐全，符合低保对象条件")
    assert app.status == S.PROPOSED and app.proposed_by == staff["district_clerk"]
    # the clerk who gave the opinion cannot also decide, even holding the reviewer's role
    from django.contrib.auth.models import Group

    staff["district_clerk"].groups.add(Group.objects.get(name="区医保审核"))
    resp = district.post(f"/monitoring/applications/{app.pk}/decide/", {"decision": "grant"}, follow=True)
    assert "经办与审核分离" in resp.content.decode()
    app.refresh_from_db()
    assert app.status == S.PROPOSED

    reviewer = client_of(staff["reviewer"])
    step(reviewer, app, "decide", decision="grant", note="同意")
    assert app.status == S.GRANTED and app.bill is not None
    bill = app.bill
    assert bill.status == Bill.Status.ENTERED and bill.person == person and bill.entered_by == staff["district_clerk"]
    assert bill.attachments.count() == 2 and bill.bank_account == "6214000011112222"
    # the normal path: decided by the engine, approved by a reviewer, the notice printed
    decision = bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
    assert decision.assistance_payable > Decimal("0.00")
    other_reviewer = make_user("reviewer2", __import__("yfbz.core.roles", fromlist=["Role"]).Role.DISTRICT_REVIEWER)
    decision_approve(bill_id=bill.pk, user=other_reviewer, confirm_provisional=True)
    bill.refresh_from_db()
    assert bill.status == Bill.Status.APPROVED
    from claims.tasks import notice_batch

    queued = reviewer.post(f"/claims/decisions/{decision.pk}/notice/")  # the notice is printed by a task
    assert queued.status_code == 302
    notice_batch(int(queued["Location"].rstrip("/").rsplit("/", 1)[1]))  # the test's transaction never commits
    notice = reviewer.get(queued["Location"] + "?download=1")
    assert notice.status_code == 200 and notice.content.startswith(b"%PDF")
    page = town.get(f"/monitoring/applications/{app.pk}/").content.decode()
    assert "已批准（转入报销核定）" in page and "已批准，报销已审批待支付" in page

    moves = list(ApplicationStatusChange.objects.filter(application=app).order_by("pk").values_list("to_status", flat=True))
    assert moves == ["REGISTERED", "INCOMPLETE", "REGISTERED", "SUBMITTED", "PROPOSED", "GRANTED", "DECIDED", "APPROVED"]


def _granted(make_person, staff, inst, name):
    person = make_person(name, town="SLH", categories=("DIBAO",))
    town = client_of(staff["slh_clerk"])
    app = register(town, person, inst)
    step(town, app, "review", complete="yes")
    step(client_of(staff["district_clerk"]), app, "propose", opinion="GRANT", note="符合条件")
    step(client_of(staff["reviewer"]), app, "decide", decision="grant", note="同意")
    assert app.status == S.GRANTED
    return app


def test_a_granted_application_follows_its_bill_to_paid(make_person, staff, inst, make_user):
    """After the grant the application's own status is its bill's: decided, approved, paid — each move
    through the one door with a history row naming the bill (it stayed at 已批准 before)."""
    from claims.services import bill_decide, decision_approve, payables_mark_paid
    from yfbz.core.roles import Role

    app = _granted(make_person, staff, inst, "周跟随")
    d = bill_decide(bill_id=app.bill_id, user=staff["district_clerk"])
    app.refresh_from_db()
    assert app.status == S.DECIDED and app.get_status_display() == "已批准，报销已核定待审批"
    decision_approve(bill_id=app.bill_id, user=make_user("reviewer2", Role.DISTRICT_REVIEWER), confirm_provisional=True)
    app.refresh_from_db()
    assert app.status == S.APPROVED
    payables_mark_paid(source_keys=[f"decision:{d.pk}"], paid_on=timezone.localdate(), user=staff["finance"])
    app.refresh_from_db()
    assert app.bill.status == Bill.Status.PAID and app.status == S.PAID
    history = list(ApplicationStatusChange.objects.filter(application=app).order_by("pk"))
    assert [h.to_status for h in history][-4:] == ["GRANTED", "DECIDED", "APPROVED", "PAID"]
    assert history[-1].from_status == "APPROVED" and f"报销票据{app.bill_id}：已支付" in history[-1].reason
    assert history[-2].by.username == "reviewer2"
    page = client_of(staff["slh_clerk"]).get(f"/monitoring/applications/{app.pk}/").content.decode()
    assert "已批准，救助金已支付" in page


def test_a_granted_application_follows_its_bill_refused_and_decided_again(make_person, staff, inst):
    from claims.services import bill_decide, bill_return, decision_refuse

    app = _granted(make_person, staff, inst, "吴退回")
    bill_decide(bill_id=app.bill_id, user=staff["district_clerk"])
    bill_return(bill_id=app.bill_id, user=staff["reviewer"], reason="金额录错")
    app.refresh_from_db()
    assert app.bill.status == Bill.Status.ENTERED and app.status == S.GRANTED
    bill_decide(bill_id=app.bill_id, user=staff["district_clerk"])
    decision_refuse(bill_id=app.bill_id, user=staff["reviewer"], code="PAPERS_NOT_GENUINE", reason="票据非原件")
    app.refresh_from_db()
    assert app.bill.status == Bill.Status.REFUSED and app.status == S.BILL_REFUSED
    moves = list(ApplicationStatusChange.objects.filter(application=app).order_by("pk").values_list("from_status", "to_status"))
    assert moves[-4:] == [("GRANTED", "DECIDED"), ("DECIDED", "GRANTED"), ("GRANTED", "DECIDED"), ("DECIDED", "BILL_REFUSED")]


def test_a_refusal_needs_a_reason_and_ends_the_application(make_person, staff, inst):
    person = make_person("钱拒绝", town="SLH", categories=("DIBAO",))
    town = client_of(staff["slh_clerk"])
    app = register(town, person, inst, on_behalf="", agent_name="", agent_relation="")
    step(town, app, "review", complete="yes")
    step(client_of(staff["district_clerk"]), app, "propose", opinion="REFUSE", note="已在他处获得救助")
    reviewer = client_of(staff["reviewer"])
    step(reviewer, app, "decide", decision="refuse", note="")
    assert app.status == S.PROPOSED
    step(reviewer, app, "decide", decision="refuse", note="已在他处获得救助")
    assert app.status == S.REFUSED and app.bill is None and app.due_on is None
    assert not Bill.objects.filter(person=person).exists()


def test_a_person_not_yet_certified_is_referred_first_and_waits(make_person, staff, inst):
    person = make_person("孙未认定", town="SLH", categories=())
    town = client_of(staff["slh_clerk"])
    app = register(town, person, inst)
    resp = town.post(f"/monitoring/applications/{app.pk}/review/", {"complete": "yes"}, follow=True)
    assert "请选择转哪个部门认定身份" in resp.content.decode()
    civil = Department.objects.get(code="CIVIL")
    step(town, app, "review", complete="yes", department=str(civil.pk), note="疑似低保边缘家庭")
    assert app.status == S.REFERRED
    referral = Referral.objects.get(application=app)
    assert referral.department == civil and referral.status == Referral.Status.WAITING
    # the district cannot act on it while the department has not decided
    step(client_of(staff["district_clerk"]), app, "propose", opinion="GRANT")
    assert app.status == S.REFERRED

    dept = client_of(staff["civil_officer"])
    assert "孙未认定" in dept.get("/monitoring/referrals/").content.decode()
    page = dept.get(f"/monitoring/referrals/{referral.pk}/").content.decode()
    assert "依申请救助" in page
    today = timezone.localdate()
    dept.post(f"/monitoring/referrals/{referral.pk}/outcome/", {
        "certified": "yes", "certified_from": "2025-01-01", "decided_on": today.isoformat()})
    app.refresh_from_db()
    assert app.status == S.REGISTERED  # back to the town's review
    step(town, app, "review", complete="yes")
    assert app.status == S.SUBMITTED  # certified on this application from a date before the bill


def test_not_certified_closes_the_application(make_person, staff, inst):
    person = make_person("周不认定", town="SLH", categories=())
    town = client_of(staff["slh_clerk"])
    app = register(town, person, inst)
    civil = Department.objects.get(code="CIVIL")
    step(town, app, "review", complete="yes", department=str(civil.pk))
    referral = Referral.objects.get(application=app)
    client_of(staff["civil_officer"]).post(f"/monitoring/referrals/{referral.pk}/outcome/", {
        "certified": "no", "reason": "家庭收入超过标准", "decided_on": timezone.localdate().isoformat()})
    app.refresh_from_db()
    assert app.status == S.CLOSED
    assert "家庭收入超过标准" in town.get(f"/monitoring/applications/{app.pk}/").content.decode()


def test_applications_are_scoped_by_town(make_person, staff, inst):
    slh = make_person("吴双龙", town="SLH", categories=("DIBAO",))
    hx = make_person("郑回兴", town="HX", categories=("DIBAO",))
    app = register(client_of(staff["slh_clerk"]), slh, inst)
    other = client_of(staff["hx_clerk"])
    assert "吴双龙" not in other.get("/monitoring/applications/").content.decode()
    assert other.get(f"/monitoring/applications/{app.pk}/").status_code == 404
    assert other.post(f"/monitoring/applications/{app.pk}/review/", {"complete": "yes"}).status_code == 404
    paper = app.papers.first()
    assert other.get(f"/monitoring/applications/{app.pk}/papers/{paper.pk}/").status_code == 404
    # a town clerk registers only for people of their own town
    resp = other.post("/monitoring/applications/new/", form(slh, institution=inst.pk))
    assert resp.status_code == 200 and "没有找到此人" in resp.content.decode()
    own = client_of(staff["slh_clerk"])
    assert own.get(f"/monitoring/applications/{app.pk}/papers/{paper.pk}/").content == PDF
    assert "郑回兴" not in own.get("/monitoring/applications/?status=all").content.decode()
    assert hx  # the other town's person exists; only the scoping hides them


def test_deadlines_are_dated_data_and_late_ones_stand_out(make_person, staff, inst):
    today = timezone.localdate()
    DeadlineRule.objects.create(step="APP_TOWN_REVIEW", working_days=2, effective_from=today - timedelta(days=1),
                                source="区医保局通知（测试）")
    person = make_person("冯期限", town="SLH", categories=("DIBAO",))
    town = client_of(staff["slh_clerk"])
    app = register(town, person, inst)
    assert app.due_on == add_working_days(today, 2)
    Application.objects.filter(pk=app.pk).update(due_on=today - timedelta(days=1))
    home = town.get("/").content.decode()
    assert "审核或补正的救助申请已超期" in home
    listing = town.get("/monitoring/applications/?status=late").content.decode()
    assert "冯期限" in listing and "已超期" in listing


def test_bad_input_names_the_field_in_chinese(make_person, staff, inst):
    person = make_person("陈输入", town="SLH", categories=("DIBAO",))
    town = client_of(staff["slh_clerk"])
    resp = town.post("/monitoring/applications/new/", form(person, institution=inst.pk, in_policy_cost="40000.00",
                                                            settled_on=(date.today() + timedelta(days=3)).isoformat()))
    body = resp.content.decode()
    assert resp.status_code == 200 and "政策范围内费用40000.00大于医疗总费用30000.00" in body and "结算日期不能晚于今天" in body
    resp = town.post("/monitoring/applications/new/", form(person, institution=inst.pk, agent_name=""))
    assert "委托代办须填写代办人姓名" in resp.content.decode()
    assert not Application.objects.exists()
