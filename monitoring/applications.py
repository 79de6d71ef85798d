"""Assistance on application (依申请救助, 2号 五(二)(三); docs/monitoring.md "Applications").

town clerk: register (委托代办 if need be; the bill, the papers, the reason) → review the papers:
    complete and the person certified on the bill's date → to the district (待区医保局初审);
    incomplete → 资料待补正 (the town registers the missing papers and sends it on again);
    not certified → a referral to a department (待部门认定身份): certified → back to the town's review;
    not certified → closed;
district clerk: opinion (建议给予 / 不予救助) or back to the town for papers;
district reviewer, not the clerk who gave the opinion nor who registered: grants → a hand-settled bill
    (claims.services.bill_enter, entered by the clerk who checked the figures) that is decided and
    approved the normal way, with its notice; or refuses (with the reason); or sends it back.

Every move goes through ``yfbz.core.workflow.transition`` (``Application.MOVES``, history
``ApplicationStatusChange``); every deadline is dated data (``monitoring.deadlines``)."""

from __future__ import annotations

import hashlib
from datetime import date

from django.db import transaction
from django.utils import timezone

from beneficiaries.models import Identity
from claims.models import Bill
from yfbz.core.roles import Role
from yfbz.core.workflow import record_start, transition

from .deadlines import Step, due
from .followup import MonitoringError
from .models import Application, ApplicationPaper, Referral

S = Application.Status


def _today() -> date:
    return timezone.localdate()


def _is_town_clerk_of(user, town_id) -> bool:
    return user.has_role(Role.TOWN_CLERK) and user.town_id == town_id and not user.sees_everything


def _lock(user, application_id: int) -> Application:
    app = (Application.objects.visible_to(user).select_for_update(of=("self",)).select_related("person", "town")
           .filter(pk=application_id).first())
    if app is None:
        raise MonitoringError("没有这份申请，或不属于您的镇街。")
    return app


def _town_may_act(user, app: Application) -> None:
    if user.is_superuser or _is_town_clerk_of(user, app.town_id):
        return
    raise MonitoringError("只有申请人所在镇街的经办员可以办理这一步。")


def _paper(app: Application, file_name: str, data: bytes, user) -> ApplicationPaper:
    from yfbz.core.uploads import UploadRefused, check_scan

    try:
        content_type = check_scan(file_name, data)
    except UploadRefused as exc:
        raise MonitoringError(f"扫描件{exc}") from None
    if len(file_name) > 200:
        raise MonitoringError(f"扫描件文件名超过200个字符：“{file_name[:40]}…”，请改短后再上传。")
    return ApplicationPaper.objects.create(application=app, file_name=file_name, content_type=content_type, size=len(data),
                                          sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_by=user)


def certified_on(person_id: int, on: date) -> bool:
    """The person holds an identity (any category) on the date."""
    from django.db.models import Q

    return Identity.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on), person_id=person_id,
                                   valid_from__lte=on).exists()


def application_register(*, user, person, papers: list[tuple[str, bytes]] = (), alert=None, **fields) -> Application:
    """A town clerk registers an application for a person of their town (the fields: reason, on_behalf,
    agent_name, agent_relation, and the bill: institution, kind, disease, admitted_on, settled_on,
    total_cost, in_policy_cost, basic_paid, critical_paid)."""
    from django.core.exceptions import ValidationError

    if not (user.is_superuser or user.has_role(Role.TOWN_CLERK)):
        raise MonitoringError("只有镇街经办员可以登记医疗救助申请（由申请人所在镇街受理）。")
    town_id = person.town_id
    if town_id is None:
        raise MonitoringError(f"{person.name}没有登记所属镇街，请先登记镇街再受理申请。")
    if not user.is_superuser and not _is_town_clerk_of(user, town_id):
        raise MonitoringError("只能受理本镇街人员的申请。")
    if not (fields.get("reason") or "").strip():
        raise MonitoringError("请填写申请事由。")
    if fields.get("on_behalf") and not ((fields.get("agent_name") or "").strip() and (fields.get("agent_relation") or "").strip()):
        raise MonitoringError("委托代办须填写代办人姓名及与申请人的关系。")
    if fields.get("settled_on") and fields["settled_on"] > _today():
        raise MonitoringError(f"结算日期{fields['settled_on']}晚于今天。")
    today = _today()
    with transaction.atomic():
        app = Application(person=person, town_id=town_id, registered_by=user, registered_on=today, alert=alert,
                          due_on=due(Step.APP_TOWN_REVIEW, today), **fields)
        try:
            app.full_clean()
        except ValidationError as exc:
            parts = []
            for field, msgs in exc.message_dict.items():
                try:
                    label = Application._meta.get_field(field).verbose_name
                except Exception:  # noqa: BLE001 - NON_FIELD_ERRORS
                    label = ""
                parts.append(f"{label}：{'；'.join(msgs)}" if label else "；".join(msgs))
            raise MonitoringError("申请数据有误：" + "；".join(parts)) from exc
        app.save()
        for name, data in papers:
            _paper(app, name, data, user)
        how = f"（委托{app.agent_name}代办）" if app.on_behalf else ""
        record_start(app, by=user, reason=f"{today} 镇街受理登记{how}")
    return app


def application_add_papers(*, application_id: int, user, papers: list[tuple[str, bytes]], note: str = "") -> Application:
    """The town adds the missing papers; an application waiting for them goes back to the review."""
    if not papers:
        raise MonitoringError("请选择要补充的扫描件。")
    with transaction.atomic():
        app = _lock(user, application_id)
        _town_may_act(user, app)
        if app.status not in Application.WAITING_TOWN:
            raise MonitoringError(f"申请当前为“{app.get_status_display()}”，不能补充资料。")
        for name, data in papers:
            _paper(app, name, data, user)
        if app.status == S.INCOMPLETE:
            app.due_on = due(Step.APP_TOWN_REVIEW, _today())
            transition(app, S.REGISTERED, by=user, reason=f"已补正资料{len(papers)}份" + (f"：{note.strip()}" if note.strip() else ""),
                       update_fields=["due_on"])
        return app


def application_review(*, application_id: int, user, complete: bool, note: str = "", department=None) -> Application:
    """The town reviews the papers (资料审核). Incomplete → 资料待补正 (say what is missing). Complete:
    a person certified on the bill's date (or certified by a department on this application) goes to
    the district; one not certified is referred to ``department`` first."""
    with transaction.atomic():
        app = _lock(user, application_id)
        _town_may_act(user, app)
        if app.status != S.REGISTERED:
            raise MonitoringError(f"申请当前为“{app.get_status_display()}”，不在镇街审核资料环节。")
        today = _today()
        if not complete:
            if not note.strip():
                raise MonitoringError("资料不全须写明缺少哪些资料。")
            app.due_on = due(Step.APP_TOWN_REVIEW, today)
            transition(app, S.INCOMPLETE, by=user, reason=f"资料不全：{note.strip()}", update_fields=["due_on"])
            return app
        app.reviewed_by, app.reviewed_on = user, today
        certified_here = app.referrals.filter(status=Referral.Status.CERTIFIED, certified_from__lte=app.settled_on).exists()
        if certified_on(app.person_id, app.settled_on) or certified_here:
            app.due_on = due(Step.APP_DISTRICT, today)
            transition(app, S.SUBMITTED, by=user, reason="资料审核通过，报区医保局" + (f"：{note.strip()}" if note.strip() else ""),
                       update_fields=["reviewed_by", "reviewed_on", "due_on"])
            return app
        if department is None:
            raise MonitoringError(f"{app.person.name}在结算日期{app.settled_on}没有救助身份：请选择转哪个部门认定身份。")
        referral = Referral.objects.create(
            application=app, department=department, town=app.town, id_number=app.person.id_number, name=app.person.name,
            person=app.person, referred_on=today, due_on=due(Step.REFERRAL, today), note=note.strip(), referred_by=user,
        )
        record_start(referral, by=user, reason=f"依申请救助：申请人尚无救助身份，转{department.name}认定")
        app.due_on = referral.due_on
        transition(app, S.REFERRED, by=user, reason=f"资料审核通过；申请人尚无救助身份，转{department.name}认定",
                   update_fields=["reviewed_by", "reviewed_on", "due_on"])
        return app


def referral_returns(referral: Referral, user, certified: bool, text: str) -> None:
    """Called (locked, in the department's transaction) when a referral of an application is decided."""
    app = Application.objects.select_for_update().get(pk=referral.application_id)
    if app.status != S.REFERRED:
        return
    if certified:
        app.due_on = due(Step.APP_TOWN_REVIEW, _today())
        transition(app, S.REGISTERED, by=user, reason=f"{referral.department.name}{text}，退回镇街审核后报区",
                   update_fields=["due_on"])
    else:
        app.due_on = None
        transition(app, S.CLOSED, by=user, reason=f"{referral.department.name}{text}", update_fields=["due_on"])


def application_withdraw(*, application_id: int, user, reason: str) -> Application:
    if not reason.strip():
        raise MonitoringError("撤回须写明原因（如申请人本人撤回）。")
    with transaction.atomic():
        app = _lock(user, application_id)
        _town_may_act(user, app)
        if app.status not in Application.WAITING_TOWN:
            raise MonitoringError(f"申请当前为“{app.get_status_display()}”，不能撤回。")
        app.due_on = None
        transition(app, S.WITHDRAWN, by=user, reason=f"撤回：{reason.strip()}", update_fields=["due_on"])
        return app


def application_propose(*, application_id: int, user, opinion: str, note: str = "", back_to_town: bool = False) -> Application:
    """The district clerk's opinion (初审): grant or refuse; or the papers back to the town."""
    if not (user.is_superuser or user.has_role(Role.DISTRICT_CLERK)):
        raise MonitoringError("只有区医保经办人员可以初审申请。")
    with transaction.atomic():
        app = _lock(user, application_id)
        if app.status != S.SUBMITTED:
            raise MonitoringError(f"申请当前为“{app.get_status_display()}”，不在初审环节。")
        today = _today()
        if back_to_town:
            if not note.strip():
                raise MonitoringError("退回镇街补正资料须写明缺少哪些资料。")
            app.due_on = due(Step.APP_TOWN_REVIEW, today)
            transition(app, S.INCOMPLETE, by=user, reason=f"区医保局退回补正：{note.strip()}", update_fields=["due_on"])
            return app
        if opinion not in Application.Opinion.values:
            raise MonitoringError("请选择初审意见。")
        if opinion == Application.Opinion.REFUSE and not note.strip():
            raise MonitoringError("建议不予救助须写明理由。")
        app.opinion, app.opinion_note, app.proposed_by, app.proposed_on = opinion, note.strip(), user, today
        app.due_on = due(Step.APP_DISTRICT, today)
        transition(app, S.PROPOSED, by=user, reason=f"初审：{Application.Opinion(opinion).label}" + (f"：{note.strip()}" if note.strip() else ""),
                   update_fields=["opinion", "opinion_note", "proposed_by", "proposed_on", "due_on"])
        return app


def application_decide(*, application_id: int, user, grant: bool | None, note: str = "") -> Application:
    """A district reviewer — not who gave the opinion nor who registered — decides: grant (the bill is
    entered in claims for the normal decision, approval and notice), refuse (with the reason), or
    ``grant=None``: back to the clerk's opinion."""
    if not (user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER)):
        raise MonitoringError("只有区医保审核人员可以审批申请。")
    with transaction.atomic():
        app = _lock(user, application_id)
        if app.status != S.PROPOSED:
            raise MonitoringError(f"申请当前为“{app.get_status_display()}”，没有待审批的初审意见。")
        if user.pk in (app.proposed_by_id, app.registered_by_id):
            raise MonitoringError("登记或初审该申请的人员不能审批（经办与审核分离）。")
        today = _today()
        if grant is None:
            if not note.strip():
                raise MonitoringError("退回初审须写明原因。")
            app.due_on = due(Step.APP_DISTRICT, today)
            transition(app, S.SUBMITTED, by=user, reason=f"退回初审：{note.strip()}", update_fields=["due_on"])
            return app
        app.decided_by, app.decided_on, app.decision_note, app.due_on = user, today, note.strip(), None
        if not grant:
            if not note.strip():
                raise MonitoringError("不予救助须写明理由。")
            transition(app, S.REFUSED, by=user, reason=f"不予救助：{note.strip()}",
                       update_fields=["decided_by", "decided_on", "decision_note", "due_on"])
            return app
        app.bill = _enter_bill(app)
        transition(app, S.GRANTED, by=user, reason=f"批准，转入手工报销核定（票据{app.bill.pk}）" + (f"：{note.strip()}" if note.strip() else ""),
                   update_fields=["decided_by", "decided_on", "decision_note", "due_on", "bill"])
        return app


def _enter_bill(app: Application):
    """The application's bill, entered by the clerk who checked its figures (the opinion), with the
    papers as its scans: it waits for the engine's decision on the bills page like any other."""
    from claims.services import ClaimsError, Upload, bill_enter

    papers = [Upload(p.file_name, p.content_type, bytes(p.data))
              for p in ApplicationPaper.objects.filter(application=app).defer(None)]
    try:
        return bill_enter(
            user=app.proposed_by, attachments=papers, person=app.person, institution=app.institution, kind=app.kind,
            disease=app.disease, admitted_on=app.admitted_on, settled_on=app.settled_on, total_cost=app.total_cost,
            in_policy_cost=app.in_policy_cost, basic_paid=app.basic_paid, critical_paid=app.critical_paid,
            account_holder=app.account_holder, bank_name=app.bank_name, bank_account=app.bank_account,
            note=f"依申请救助（申请{app.pk}）",
        )
    except ClaimsError as exc:
        raise MonitoringError(f"无法转入报销核定：{exc}") from None


def follow_bill(bill, to: str, user, note: str = "") -> None:
    """Called in the bill's transaction after each of its moves (``claims.services.bill_set_status``,
    through the ``bill_moved`` place of ``yfbz.core.hooks``): a granted application follows its bill —
    decided, approved or refused, paid, decided again — through the one door, with its history."""
    target = Application.FOLLOWS_BILL.get(str(to))
    if target is None:
        return
    app = Application.objects.select_for_update().filter(bill_id=bill.pk).first()
    if app is None or app.status == target or app.status not in Application.FOLLOWS_BILL.values():
        return
    why = f"报销票据{bill.pk}：{Bill.Status(to).label}" + (f"（{note.strip()}）" if (note or "").strip() else "")
    transition(app, target, by=user, reason=why)


# --- for the pages --------------------------------------------------------------------------------
def next_actor(app: Application) -> str:
    return {
        S.REGISTERED: "镇街经办员（审核资料）", S.INCOMPLETE: "镇街经办员（补正资料）", S.REFERRED: "认定部门",
        S.SUBMITTED: "区医保经办（初审）", S.PROPOSED: "区医保审核（审批）",
    }.get(app.status, "—")


def waiting_for(user):
    """The applications waiting for this user's role (the home page): (label, queryset)."""
    qs = Application.objects.visible_to(user)
    items = []
    if user.is_superuser or user.has_role(Role.TOWN_CLERK):
        items.append(("待审核或补正的救助申请", qs.filter(status__in=Application.WAITING_TOWN), "town"))
    if user.is_superuser or user.has_role(Role.DISTRICT_CLERK):
        items.append(("待初审的救助申请", qs.filter(status=S.SUBMITTED), S.SUBMITTED))
    if user.is_superuser or user.has_role(Role.DISTRICT_REVIEWER):
        items.append(("待审批的救助申请", qs.filter(status=S.PROPOSED), S.PROPOSED))
    return items
