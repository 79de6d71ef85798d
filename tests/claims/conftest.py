"""Fixtures of the claims tests: institutions, bills entered by a district clerk, decided."""

from datetime import date
from decimal import Decimal

import pytest


@pytest.fixture
def institutions(db):
    from claims.models import Institution

    return {
        "YB01": Institution.objects.create(code="YB01", name="渝北区人民医院", level=2, bank_name="渝北农商行", bank_account="6200001"),
        "CQ01": Institution.objects.create(code="CQ01", name="重庆医科大学附属第一医院", level=3),
        "SQ01": Institution.objects.create(code="SQ01", name="双龙湖社区卫生服务中心", level=0),
    }


@pytest.fixture
def enter_bill(staff, institutions):
    """enter_bill(person, settled_on=..., in_policy_cost=..., basic_paid=..., ...) → Bill (ENTERED)."""
    from claims.services import bill_enter

    def enter(person, *, institution="YB01", kind="INPATIENT", settled_on=date(2025, 4, 9), total=None,
              in_policy="14000.00", basic="9000.00", critical="0.00", disease="", user=None, **extra):
        inpol = Decimal(in_policy)
        return bill_enter(
            user=user or staff["district_clerk"],
            person=person,
            institution=institutions[institution],
            kind=kind,
            disease=disease,
            admitted_on=extra.pop("admitted_on", None),
            settled_on=settled_on,
            total_cost=Decimal(total) if total else inpol,
            in_policy_cost=inpol,
            basic_paid=Decimal(basic),
            critical_paid=Decimal(critical),
            account_holder=person.name,
            bank_name="重庆农村商业银行",
            bank_account="6228480000000001",
            **extra,
        )

    return enter


@pytest.fixture
def decided_bill(enter_bill, staff):
    """enter + decide in one go."""
    from claims.services import bill_decide

    def make(person, **kw):
        bill = enter_bill(person, **kw)
        bill_decide(bill_id=bill.pk, user=staff["district_clerk"])
        bill.refresh_from_db()
        return bill

    return make
