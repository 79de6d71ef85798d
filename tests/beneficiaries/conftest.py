"""Helpers for roster tests: build roster files (xlsx, CSV in any encoding) and run the workflow."""

import csv
import io
from datetime import date

import pytest
from openpyxl import Workbook

from tests.conftest import valid_id

HEADER = ["身份证号码", "姓名", "救助类别", "所属镇街", "认定日期", "联系电话"]


def roster_xlsx(rows, header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def roster_csv(rows, header=HEADER, encoding="utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode(encoding)


def ids(n, start=100, birth=date(1960, 5, 1)):
    """n distinct valid ID numbers."""
    return [valid_id(birth, seq) for seq in range(start, start + n)]


@pytest.fixture
def civil(departments):
    return departments["CIVIL"]


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run the jobs a service queues on commit (tests run inside one transaction that never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def upload_file(civil, staff, run_jobs):
    """Upload a file through the service (tasks run inline) and return the refreshed upload."""
    from beneficiaries.services import roster_upload_create

    def do(data, month=date(2025, 3, 1), mode="snapshot", user=None, department=None, name="roster.xlsx"):
        with run_jobs():
            result = roster_upload_create(
                user=user or staff["civil_officer"], department=department or civil, month=month, mode=mode,
                file_name=name, data=data,
            )
        result.upload.refresh_from_db()
        return result

    return do


@pytest.fixture
def confirm_roster(staff, run_jobs):
    """Take a validated upload through submit → every town accepts → district confirms."""
    from beneficiaries import towncounts
    from beneficiaries.models import RosterRow
    from beneficiaries.services import roster_confirm, roster_submit

    def do(upload, confirm_endings=False):
        upload.refresh_from_db()
        if upload.status == "validated":
            roster_submit(upload=upload, user=staff["civil_officer"])
        RosterRow.objects.filter(upload=upload).exclude(outcome="invalid").update(review="accepted")
        towncounts.refresh(upload.pk)  # the rows were accepted here, not through the review door
        with run_jobs():
            roster_confirm(upload=upload, user=staff["district_clerk"], confirm_endings=confirm_endings)
        upload.refresh_from_db()
        return upload

    return do
