"""Changing policy data: loading the shipped defaults, bumping the revision on every change."""

from __future__ import annotations

import secrets

from django.db import transaction

from yfbz.rules.defaults import default_records


def bump_revision() -> None:
    """Tell every process that policy rows changed (their cached books are rebuilt on next read)."""
    from .models import PolicyRevision
    from .selectors import invalidate_cache

    # A random revision, not counter + 1: a transaction that bumped the revision, cached a book
    # and then rolled back must never see its revision number reused by a later, different change.
    revision = secrets.randbits(62)
    updated = PolicyRevision.objects.filter(pk=1).update(counter=revision)
    if not updated:
        PolicyRevision.objects.get_or_create(pk=1, defaults={"counter": revision})
    invalidate_cache()
    transaction.on_commit(invalidate_cache)


def load_default_policy(apps=None) -> int:
    """Create the shipped default rows of ``yfbz/rules/defaults.json`` that are not there yet
    (same key and effective date). Idempotent; used by the data migration. Returns rows created."""
    from . import models as live

    created = 0
    for live_model in live.RECORD_MODELS:
        try:
            model = apps.get_model("policy", live_model.__name__) if apps is not None else live_model
        except LookupError:
            continue  # a table a later migration adds: that migration loads its rows

        field_names = {f.name for f in model._meta.concrete_fields}
        for rec in default_records().get(live_model.SECTION, []):
            values = {
                k: ("" if v is None and k in ("category", "also_holds", "attribute") else v)
                for k, v in rec.items()
            }
            values = {k: v for k, v in values.items() if k in field_names}
            lookup = {k: values.get(k, "") for k in live_model.KEY_FIELDS}
            lookup["effective_from"] = values["effective_from"]
            if model.objects.filter(**lookup).exists():
                continue
            model.objects.create(**values)
            created += 1
    Revision = apps.get_model("policy", "PolicyRevision") if apps is not None else live.PolicyRevision
    Revision.objects.update_or_create(pk=1, defaults={"counter": 1})
    if apps is None:
        bump_revision()
    return created


def impact_of(row) -> Impact:  # noqa: F821 - yfbz.policy.impact.Impact
    """What saving ``row`` (a policy row not yet saved, or a changed one) would have changed in the
    decisions already made from its effective date: the book as it stands against the book with it."""
    from yfbz.rules.policy import PolicyBook

    from .impact import backdated_impact
    from .selectors import policy_book, policy_records

    records = policy_records()
    records[row.SECTION] = [r.to_record() for r in type(row).objects.exclude(pk=row.pk).order_by("effective_from", "pk")]
    records[row.SECTION].append(row.to_record())
    return backdated_impact(policy_book(), PolicyBook(records), row.effective_from)
