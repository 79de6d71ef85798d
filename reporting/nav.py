ITEMS = [
    ("统计查询", "reporting:statistics", "reporting.view_aggregate"),
    # district-wide figures: roles that see the funds too (town clerks have their own town's statistics)
    ("领导驾驶舱", "reporting:dashboard", "reporting.view_fundbudget"),
    ("统计报表", "reporting:returns", "reporting.view_statreturn"),
    ("预算与预警", "reporting:budget", "reporting.view_fundbudget"),
]


def panels(user):
    """The fund risk warning on the finance officer's and the leadership's home pages."""
    from django.utils import timezone

    from yfbz.core.roles import Role

    if not (user.is_superuser or user.has_role(Role.FINANCE, Role.LEADERSHIP)):
        return []
    from .funds import positions

    today = timezone.localdate()
    return [{"template": "reporting/_home_funds.html", "funds": positions(today.year, today), "year": today.year,
             "leader": user.has_role(Role.LEADERSHIP)}]
