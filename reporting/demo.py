"""Demo data of the statistics: budgets for the years the demo covers, the figures brought up to
date, and a month's statutory return prepared and approved."""

from __future__ import annotations

from decimal import Decimal


def _budgets(stdout, rng):
    from django.utils import timezone

    from yfbz.core.models import User

    from .funds import budget_save

    finance = User.objects.filter(username="finance").first()
    if finance is None:
        return
    for year in (timezone.localdate().year - 1, timezone.localdate().year):
        budget_save(year=year, amounts={"UPPER": Decimal("2400000.00"), "DISTRICT": Decimal("800000.00"),
                                        "YOUFU": Decimal("50000.00")}, note="演示预算（示例数字）", user=finance)
    stdout.write("统计：已录入演示年度预算（上级下拨、区本级、优抚资金）")


def _figures(stdout, rng):
    from .build import refresh

    n = 0
    while True:
        out = refresh()
        n += out["changes"]
        if not out["changes"]:
            break
    stdout.write(f"统计：已计入 {n} 项变动")


def _returns(stdout, rng):
    from yfbz.core.models import User

    from .cuts import Period
    from .models import StatReturn
    from .returns import ReturnError, return_approve, return_prepare

    clerk, reviewer = User.objects.filter(username="district_clerk").first(), User.objects.filter(username="reviewer").first()
    if clerk is None or reviewer is None or StatReturn.objects.exists():
        return
    try:
        from django.utils import timezone

        today = timezone.localdate()
        quarter = (today.month - 1) // 3  # the last quarter that has ended
        period = Period(today.year, quarter=quarter) if quarter else Period(today.year - 1, quarter=4)
        ret = return_prepare(kind="ASSISTANCE", period=period, user=clerk)
        if ret.tie_out_ok:
            return_approve(return_id=ret.pk, user=reviewer, responsible="局长（演示）")
        stdout.write(f"统计报表：{ret}（{'已审核' if ret.tie_out_ok else '勾稽未通过，待处理'}）")
    except ReturnError as exc:
        stdout.write(f"统计报表：演示报表未编制（{exc}）")


def demo_steps():
    return [_budgets, _figures, _returns]
