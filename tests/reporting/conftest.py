"""A small year whose figures are worked out by hand (docs/statistics.md defines each figure).

2025, the policy as shipped plus a veterans' subsidy cap (ratio 50 %, cap 1,000):

| what | person (town) | identity | route | kind | level | month | assistance | veterans' |
|---|---|---|---|---|---|---|---|---|
| H1 old system (--historic) | 李秀英 (HX) | BINGGU_YISHU | HAND | OUTPATIENT | 3 | Feb | 100.00 | 20.00 |
| L1 one-stop line, agreed | 王建国 (SLH) | TEKUN | ONE_STOP | INPATIENT | 2 | Mar | 4,000.00 | 0 |
| E1 | 王建国 (SLH) | TEKUN | HAND | INPATIENT | 2 | Apr | 4,000.00 (5,000 × 80 %) | 0 |
| E2 | 王建国 (SLH) | TEKUN | HAND | INPATIENT | 3 | Aug | 2,000.00 (the 10,000 cap less 4,000 + 4,000) | 0 |
| E3 | 李秀英 (HX) | BINGGU_YISHU | HAND | OUTPATIENT | 2 | May | 280.00 (400 × 70 %) | 60.00 ((400 − 280) × 50 %) |
| E4 | 陈志强 (SLH) | — | HAND | INPATIENT | 2 | Jan | 0 | 0 |
| E5 | 赵丽 (no town) | — | HAND | OUTPATIENT | 2 | Mar | 0 | 0 |
"""

import csv
import io
import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from tests.adoption.conftest import example, write

TOWNS = {"王建国": "SLH", "李秀英": "HX", "陈志强": "SLH"}
HEAD = ["结算编号", "公民身份号码", "姓名", "类型", "疾病", "入院日期", "结算日期", "医疗总费用", "政策范围内费用",
        "基本医保支付", "大病保险支付", "医疗救助垫付"]


def run_json(*args) -> dict:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


@pytest.fixture
def year_2025(db, staff, tmp_path):
    from claims.models import Institution
    from claims.settlement import settlement_file_import, settlement_file_upload, settlement_month_confirm
    from reporting.build import refresh
    from yfbz.policy.models import YoufuRule

    YoufuRule.objects.create(ratio=Decimal("0.50"), threshold=Decimal("0"), annual_cap=Decimal("1000"),
                             effective_from=date(2025, 1, 2), source="示例限额（测试用）", status="provisional")
    data = example()
    for p in data["persons"]:
        if p["name"] in TOWNS:
            p["town"] = TOWNS[p["name"]]
    # H1: the old system's February outpatient bill of 李秀英 at the level-3 hospital
    old = {"persons": [data["persons"][1]], "institutions": data["institutions"], "bills": [{
        "ref": "H1", "id_number": data["persons"][1]["id_number"], "institution": "CQ01", "kind": "OUTPATIENT",
        "disease": None, "settled_on": "2025-02-10", "total_cost": "500.00", "in_policy_cost": "400.00",
        "basic_paid": "200.00", "critical_paid": "0.00", "scheme": "OUTPATIENT", "category": "BINGGU_YISHU",
        "assistance": "100.00", "youfu_subsidy": "20.00"}]}
    args = ["--entered-by", "district_clerk", "--approved-by", "reviewer"]
    run_json("load_history", str(write(tmp_path, old, "old.json")), *args, "--historic")
    # L1: 王建国's March stay settled one-stop at YB01, agreed and confirmed
    wang = data["persons"][0]
    from beneficiaries.models import Person

    Person.objects.create(id_number=wang["id_number"], name=wang["name"], birth_date=date(1962, 3, 15), sex="M",
                          town=__import__("beneficiaries.models", fromlist=["Town"]).Town.objects.get(code="SLH"))
    from beneficiaries.models import Category, Identity

    Identity.objects.create(person=Person.objects.get(id_number=wang["id_number"]),
                            category=Category.objects.get(code="TEKUN"), valid_from=date(2023, 5, 1))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEAD)
    w.writerow(["S001", wang["id_number"], wang["name"], "住院", "", "2025-03-10", "2025-03-15", "12000.00",
                "10000.00", "5000.00", "0.00", "4000.00"])
    f = settlement_file_upload(institution=Institution.objects.get(code="YB01"), month=date(2025, 3, 1),
                               file_name="yb01-2025-03.csv", data=buf.getvalue().encode(), user=staff["district_clerk"])
    f = settlement_file_import(file_id=f.pk, user=staff["district_clerk"])
    settlement_month_confirm(month_id=f.settlement_month_id, user=staff["reviewer"])
    # E1–E5 decided and approved through the services
    run_json("load_history", str(write(tmp_path, data, "example.json")), *args)
    refresh()
    return data
