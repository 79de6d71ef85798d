"""Issue 14: uploaded files' bytes never travel by accident. Every model holding a binary column
defers it on every query (its manager, its base manager behind a lazy foreign key, and any
``select_related`` that reaches it); the bytes are read when asked for, in a query of their own."""

import pytest
from django.apps import apps
from django.db import models

from yfbz.core.bytes import binary_fields

pytestmark = pytest.mark.django_db

BINARY_MODELS = [m for m in apps.get_models() if binary_fields(m)]


def _sql(qs) -> str:
    return str(qs.query)


def test_the_models_holding_files_are_known():
    names = {m._meta.label for m in BINARY_MODELS}
    assert {"claims.SettlementFile", "claims.BillAttachment", "claims.NoticeBatch", "beneficiaries.RosterFile"} <= names


@pytest.mark.parametrize("model", BINARY_MODELS, ids=lambda m: m._meta.label)
def test_no_query_of_a_model_holding_a_file_selects_its_bytes_unless_asked(model):
    table = model._meta.db_table
    for name in binary_fields(model):
        column = f'"{table}"."{model._meta.get_field(name).column}"'
        assert column not in _sql(model._default_manager.all()), "default manager"
        assert column not in _sql(model._base_manager.all()), "base manager (lazy foreign keys)"
        assert column not in _sql(model._default_manager.filter(pk=1).select_related()), "select_related()"
        assert column in _sql(model._default_manager.only(name)), "only() names what is loaded"
        # every model that reaches it by a foreign key, through select_related
        for other in apps.get_models():
            for f in other._meta.concrete_fields:
                if isinstance(f, models.ForeignKey) and f.related_model is model:
                    qs = other._default_manager.select_related(f.name)
                    assert column not in _sql(qs), f"{other._meta.label}.select_related({f.name!r})"



@pytest.mark.parametrize("model", BINARY_MODELS, ids=lambda m: m._meta.label)
def test_every_model_holding_a_file_reloads_its_bytes_on_refresh(model):
    from yfbz.core.bytes import BytesDeferredModel

    # refresh_from_db() reloads what the instance had loaded, bytes included (a worker's result)
    assert issubclass(model, BytesDeferredModel)


def test_a_batch_refreshed_after_its_task_has_its_pdf(staff):
    from claims.models import NoticeBatch

    batch = NoticeBatch.objects.create(requested_by=staff["district_clerk"], decision_ids=[], progress_total=0)
    NoticeBatch.objects.filter(pk=batch.pk).update(pdf=b"%PDF-1.7 done")
    batch.refresh_from_db()
    assert bytes(batch.pdf) == b"%PDF-1.7 done"
    again = NoticeBatch.objects.get(pk=batch.pk)
    again.refresh_from_db()
    assert "pdf" in again.get_deferred_fields() and bytes(again.pdf) == b"%PDF-1.7 done"
