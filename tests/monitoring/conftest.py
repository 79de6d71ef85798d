"""Fixtures of the monitoring tests: institutions, and a month's high-cost export written as CSV or xlsx."""

import csv
import io
import json

import pytest
from django.core.management import call_command

HEADER = ["结算流水号", "公民身份号码", "姓名", "镇街", "结算日期", "定点机构编码", "就诊医疗机构名称", "医疗类别", "疾病名称",
          "费用总额", "政策内费用", "统筹支付", "大病报销金额", "医疗救助支付", "倾斜救助", "优抚补助支付", "清算期"]


@pytest.fixture
def institutions(db):
    from claims.models import Institution

    return {
        "YB01": Institution.objects.create(code="YB01", name="渝北区人民医院", level=2),
        "CQ01": Institution.objects.create(code="CQ01", name="重庆医科大学附属第一医院", level=3),
    }


def row(sno, person_or_id, name=None, *, town="双龙湖", settled="2025-06-10", inst="YB01", inst_name="", kind="住院",
        disease="", total="30000.00", in_policy="25000.00", basic="15000.00", critical="2000.00", assistance="0",
        tilted="", youfu="") -> list:
    idn = getattr(person_or_id, "id_number", person_or_id)
    name = getattr(person_or_id, "name", "某某") if name is None else name
    return [sno, idn, name, town, settled, inst, inst_name, kind, disease, total, in_policy, basic, critical, assistance,
            tilted, youfu, "202506"]


def csv_bytes(rows, *, title=True, header=HEADER) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    if title:  # government exports carry a title row above the header
        w.writerow(["渝北区高额医疗费用明细（2025年6月）"])
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


@pytest.fixture
def run_import(tmp_path):
    """run_import(data, month="2025-06", apply=False) → (exit status, JSON printed)."""
    from django.core.management.base import CommandError

    counter = iter(range(1000))

    def run(data: bytes, month="2025-06", apply=False, suffix=".csv"):
        path = tmp_path / f"highcost-{next(counter)}{suffix}"
        path.write_bytes(data)
        out = io.StringIO()
        args = [str(path), "--month", month] + (["--apply"] if apply else [])
        try:
            call_command("import_high_cost", *args, stdout=out)
            code = 0
        except CommandError as exc:
            code = exc.returncode
        return code, json.loads(out.getvalue())

    return run

