"""Fixtures of the retroactive-chain tests: rosters (tests/beneficiaries) and bills (tests/claims)."""

from datetime import date
from decimal import Decimal

import pytest

from tests.beneficiaries.conftest import HEADER, civil, confirm_roster, roster_xlsx, run_jobs, upload_file  # noqa: F401
from tests.claims.conftest import decided_bill, enter_bill, institutions  # noqa: F401
from tests.funding.conftest import fund  # noqa: F401

EXIT_HEADER = HEADER + ["退出日期"]


@pytest.fixture
def apply_roster(upload_file, confirm_roster):  # noqa: F811 (the fixtures imported above)
    """apply_roster([(id, name, wording, town, certified, phone[, exits])], month=, mode=) → the confirmed upload."""

    def do(rows, month=date(2025, 11, 1), mode="delta"):
        header = EXIT_HEADER if any(len(r) > 6 for r in rows) else HEADER
        rows = [tuple(r) + ("",) * (len(header) - len(r)) for r in rows]
        up = upload_file(roster_xlsx(rows, header=header), month=month, mode=mode).upload
        return confirm_roster(up, confirm_endings=True)

    return do


@pytest.fixture
def approve(staff):
    from claims.services import decision_approve

    def do(bill):
        return decision_approve(bill_id=bill.pk, user=staff["reviewer"], confirm_provisional=True)

    return do


def money(x) -> Decimal:
    return Decimal(x).quantize(Decimal("0.01"))


SETTLEMENT_HEAD = ["结算编号", "公民身份号码", "姓名", "类型", "疾病", "入院日期", "结算日期", "医疗总费用", "政策范围内费用",
                   "基本医保支付", "大病保险支付", "医疗救助垫付"]


@pytest.fixture
def one_stop(institutions, staff):  # noqa: F811 (the fixture imported above)
    """one_stop(person, settled_on, advanced, in_policy=, basic=, confirm=) → the imported SettlementLine
    (YB01, level 2); with confirm the reviewer confirms the institution's month."""
    import csv
    import io

    from claims.settlement import settlement_file_import, settlement_file_upload, settlement_month_confirm

    seq = iter(range(1, 1000))

    def do(person, settled_on, advanced, *, in_policy="10000.00", basic="5000.00", confirm=False):
        n = next(seq)
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(SETTLEMENT_HEAD)
        w.writerow([f"YB01-{n:04d}", person.id_number, person.name, "住院", "", "", settled_on.isoformat(), in_policy,
                    in_policy, basic, "0.00", advanced])
        f = settlement_file_upload(institution=institutions["YB01"], month=settled_on.replace(day=1), file_name=f"f{n}.csv",
                                   data=buf.getvalue().encode(), user=staff["district_clerk"])
        f = settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
        line = f.lines.get()
        if confirm:
            settlement_month_confirm(month_id=line.settlement_month_id, user=staff["reviewer"])
            line.refresh_from_db()
        return line

    return do
