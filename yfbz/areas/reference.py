"""The shipped area tree (yfbz/reference/areas.csv and the district/group columns of towns.csv) and
the bureau's first row. Used by data migration areas.0002 and after a test's flush; adds only
what is missing, never overwrites what an administrator edited."""

from __future__ import annotations

from django.conf import settings

from beneficiaries.reference import read_csv

from .models import DATE_MIN

#: the bureau's first row; a deployment that had set the old YFBZ_* settings carries them over
BUREAU_DEFAULTS = {
    "name": ("YFBZ_BUREAU_NAME", "重庆市渝北区医疗保障局"),
    "site_title": ("YFBZ_SITE_TITLE", "渝北区医疗救助管理系统"),
    "doc_prefix": ("YFBZ_DOC_PREFIX", "渝北医保救助"),
    "reconsideration_body": ("YFBZ_RECONSIDERATION_BODY", "重庆市渝北区人民政府"),
}
BUREAU_DISTRICT = "YB"
DEFAULT_POLICY_AREA = "YB_TOWNS"


def load_areas(apps) -> dict[str, int]:
    Area = apps.get_model("areas", "Area")
    TownDistrict = apps.get_model("areas", "TownDistrict")
    Bureau = apps.get_model("areas", "Bureau")
    Town = apps.get_model("beneficiaries", "Town")
    added = {"areas": 0, "spans": 0, "bureau": 0}
    by_code = {}
    for row in read_csv("areas.csv"):
        parent = by_code.get(row["parent"]) if row["parent"] else None
        by_code[row["code"]], created = Area.objects.get_or_create(
            code=row["code"], defaults={"name": row["name"], "kind": row["kind"], "parent": parent, "note": row["note"]}
        )
        added["areas"] += created
    shipped = {row["code"]: row for row in read_csv("towns.csv")}
    # every town already in the database is a town of today's district (an administrator may have
    # added some): it gets that district from always, and the set of towns 2号 applies to
    for town in Town.objects.all():
        row = shipped.get(town.code, {"district": BUREAU_DISTRICT, "group": DEFAULT_POLICY_AREA})
        if not TownDistrict.objects.filter(town=town).exists():
            TownDistrict.objects.create(town=town, district=by_code[row["district"]], valid_from=DATE_MIN, source="初始数据")
            added["spans"] += 1
            if row.get("group"):
                by_code[row["group"]].towns.add(town)
    if not Bureau.objects.exists():
        Bureau.objects.create(
            valid_from=DATE_MIN,
            district=by_code[BUREAU_DISTRICT],
            default_policy_area=by_code[DEFAULT_POLICY_AREA],
            source="初始数据",
            **{field: getattr(settings, name, default) or default for field, (name, default) in BUREAU_DEFAULTS.items()},
        )
        added["bureau"] = 1
    return added
