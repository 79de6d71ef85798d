"""The demo's monitoring steps (demo_data runs them last): last month's export with a warning of each
kind, some followed up, one referral waiting for 民政, and applications waiting for each role; a second
run adds nothing."""

import io
import random

import pytest
from django.test import Client

from monitoring import demo
from monitoring.models import Alert, AlertKind, Application, FollowUp, HighCostImport, Referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_world(make_person, staff):
    from claims.models import Institution

    for code, name, level in (("YB001", "重庆市渝北区人民医院", 2), ("YB002", "重庆市渝北区中医院", 2),
                              ("CQ001", "重庆医科大学附属第一医院", 3)):
        Institution.objects.create(code=code, name=name, level=level)
    for i in range(6):
        make_person(f"双龙湖低保{i}", town="SLH", categories=("DIBAO",))
    for i in range(2):
        make_person(f"回兴低保{i}", town="HX", categories=("DIBAO",))
    return staff


def run_steps():
    out = io.StringIO()
    for step in demo.demo_steps_last():
        step(out, random.Random(7))
    return out.getvalue()


def test_the_demo_has_each_warning_some_followed_up_and_applications_waiting_for_each_role(demo_world):
    text = run_steps()
    assert "预警" in text
    kinds = set(Alert.objects.values_list("kind", flat=True))
    assert kinds == {AlertKind.YJWJ, AlertKind.FDZZ, AlertKind.YBZP}
    assert FollowUp.objects.filter(action="CONTACTED").exists()
    assert Referral.objects.filter(department__code="CIVIL", status=Referral.Status.WAITING).exists()
    statuses = sorted(Application.objects.values_list("status", flat=True))
    assert statuses == sorted(["REGISTERED", "SUBMITTED", "PROPOSED"])
    assert Application.objects.filter(on_behalf=True).exists()

    for user, words in (("slh_clerk", "待审核或补正的救助申请"), ("district_clerk", "待初审的救助申请"),
                        ("reviewer", "待审批的救助申请"), ("civil_officer", "待认定的转介")):
        c = Client()
        c.force_login(demo_world[user])
        assert words in c.get("/").content.decode(), user

    counts = (HighCostImport.objects.count(), Alert.objects.count(), Application.objects.count(), FollowUp.objects.count())
    run_steps()  # re-runnable
    assert (HighCostImport.objects.count(), Alert.objects.count(), Application.objects.count(), FollowUp.objects.count()) == counts


def test_the_demo_scans_are_real_pdfs(demo_world):
    from pypdf import PdfReader

    from monitoring.models import ApplicationPaper

    run_steps()
    paper = ApplicationPaper.objects.defer(None).first()
    pages = PdfReader(io.BytesIO(bytes(paper.data))).pages
    assert len(pages) == 1 and "演示" in pages[0].extract_text()
