"""Loading the shipped reference data (yfbz/reference/*.csv) into the database.

Used by data migration 0002 and by `python manage.py load_reference` (which an administrator
can re-run: it adds what is missing and never overwrites an edited record)."""

import csv
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "yfbz" / "reference"


def read_csv(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def load_reference(apps) -> dict[str, int]:
    Town = apps.get_model("beneficiaries", "Town")
    Department = apps.get_model("beneficiaries", "Department")
    Category = apps.get_model("beneficiaries", "Category")
    CategoryAlias = apps.get_model("beneficiaries", "CategoryAlias")
    added = {"towns": 0, "departments": 0, "categories": 0, "aliases": 0}
    for row in read_csv("towns.csv"):
        _, created = Town.objects.get_or_create(code=row["code"], defaults={"name": row["name"], "kind": row["kind"]})
        added["towns"] += created
    depts = {}
    for row in read_csv("departments.csv"):
        depts[row["code"]], created = Department.objects.get_or_create(code=row["code"], defaults={"name": row["name"]})
        added["departments"] += created
    cats = {}
    for row in read_csv("categories.csv"):
        cats[row["code"]], created = Category.objects.get_or_create(
            code=row["code"],
            defaults={"name": row["name"], "department": depts[row["department"]], "youfu": row["youfu"] == "1"},
        )
        added["categories"] += created
    for row in read_csv("category-aliases.csv"):
        _, created = CategoryAlias.objects.get_or_create(
            department=depts[row["department"]], wording=row["wording"], defaults={"category": cats[row["code"]]}
        )
        added["aliases"] += created
    return added
