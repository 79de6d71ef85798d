"""The test-sized version of bench/monitoring.py: 10,000 settlements of a month through the import and
every alert on PostgreSQL, by the bulk path, with the same figures as a second, row-by-row reading."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum

from monitoring.importing import Summary, import_high_cost
from monitoring.models import Alert, AlertKind, HighCostRow, PersonYearBurden
from monitoring.synthetic import export_csv, make_recipients

pytestmark = pytest.mark.django_db


def test_ten_thousand_settlements_through_import_and_alerts(institutions):
    assert connection.vendor == "postgresql"
    recipients = make_recipients(1500)
    data = export_csv(lines=10_000, people=5_000, recipients=recipients, month=date(2025, 6, 1), institutions=[
        ("YB01", "渝北区人民医院", 2), ("CQ01", "重庆医科大学附属第一医院", 3)])
    dry, _ = import_high_cost(data=data, file_name="2025-06.csv", month=date(2025, 6, 1))
    summary, imp = import_high_cost(data=data, file_name="2025-06.csv", month=date(2025, 6, 1), apply=True)
    assert isinstance(summary, Summary)
    assert summary.rows == summary.valid == 10_000 and summary.invalid == 0 and summary.people == 5_000
    assert dry.alerts == summary.alerts  # the dry run says exactly what --apply raises
    assert all(summary.alerts[k] > 0 for k in AlertKind.values), summary.alerts
    assert HighCostRow.objects.count() == 10_000
    by_kind = dict(Alert.objects.values_list("kind").annotate(n=Count("pk")))
    assert by_kind == summary.alerts
    # the year's burden per person equals the sum of their rows
    total = HighCostRow.objects.aggregate(s=Sum("burden"))["s"]
    assert PersonYearBurden.objects.aggregate(s=Sum("burden"))["s"] == total
    # every 应救未救 is a recipient's row with no assistance where the engine pays above 0
    assert not Alert.objects.filter(kind=AlertKind.YJWJ, row__assistance_paid__gt=0).exists()
    assert not Alert.objects.filter(kind=AlertKind.YJWJ, expected__lte=0).exists()
    # 负担仍重 and 疑似因病致贫返贫 at or above their thresholds, for recipients and the others
    assert not Alert.objects.filter(kind=AlertKind.FDZZ, burden__lt=Decimal("10000.00")).exists()
    assert not Alert.objects.filter(kind=AlertKind.YBZP, burden__lt=Decimal("20000.00")).exists()
    assert not Alert.objects.filter(kind=AlertKind.YBZP, person__isnull=False).exists()
    heavy = PersonYearBurden.objects.filter(person__isnull=True, burden__gte=Decimal("20000.00")).count()
    assert heavy == by_kind[AlertKind.YBZP]
    # a second import of the same file: every row a duplicate, nothing counted twice, no alert
    again, _ = import_high_cost(data=data, file_name="2025-06-again.csv", month=date(2025, 6, 1), apply=True)
    assert again.duplicates == 10_000 and again.alerts == {"YJWJ": 0, "FDZZ": 0, "YBZP": 0}
    assert PersonYearBurden.objects.aggregate(s=Sum("burden"))["s"] == total
