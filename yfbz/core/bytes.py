"""File bytes never travel by accident (issue 14).

Uploaded files and generated PDFs are kept in the database (``BinaryField``). A query that loads a
settlement line with ``select_related("file")`` used to bring the whole settlement file with each
line: +486 MiB on one page of a 15,000-line month. Here every binary column is **deferred by
default**:

- ``BytesDeferredManager`` (and ``ScopedManager``, which builds on it) defers the model's own
  binary columns on every query, also as the base manager (lazy foreign keys, related managers);
- its queryset's ``select_related(path, …)`` defers the binary columns of every model on the path;
- models declare ``BytesDeferredModel`` first among their bases (``refresh_from_db`` as usual);
- reading ``obj.data`` loads the bytes in one query of their own — done only by the download and
  the import (or ``values_list("data")``).

``only(…)`` names exactly what is loaded (the default deferral is dropped first), which is also how
Django loads a deferred column on first access. ``tests/core/test_bytes.py`` walks every model.
"""

from __future__ import annotations

from django.db import models


def binary_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, models.BinaryField)]


def _binary_on_paths(model, paths) -> list[str]:
    out = []
    for path in paths:
        if not isinstance(path, str):
            continue
        current, prefix = model, []
        for part in path.split("__"):
            try:
                field = current._meta.get_field(part)
            except Exception:  # noqa: BLE001 — let Django report the bad path
                break
            current = field.related_model
            if current is None:
                break
            prefix.append(part)
            out += ["__".join([*prefix, name]) for name in binary_fields(current)]
    return out


class BytesDeferredQuerySet(models.QuerySet):
    def select_related(self, *fields):
        qs = super().select_related(*fields)
        deferred = _binary_on_paths(self.model, fields)
        return qs.defer(*deferred) if deferred else qs

    def only(self, *fields):
        qs = self._chain()
        existing, defer = qs.query.deferred_loading
        if defer:  # a deferral (ours or the caller's) gives way to an explicit list
            qs.query.clear_deferred_loading()
        return super(BytesDeferredQuerySet, qs).only(*fields)


class BytesDeferredModel:
    """Mixed into a model holding bytes: ``refresh_from_db()`` reloads what the instance had loaded
    (its bytes too, when it had them), as it does for any model; the deferring base manager would
    otherwise leave them out."""

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        if fields is None and from_queryset is None:
            deferred = self.get_deferred_fields()
            fields = [f.attname for f in self._meta.concrete_fields if f.attname not in deferred]
        return super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)


class BytesDeferredManager(models.Manager.from_queryset(BytesDeferredQuerySet)):
    """A model holding bytes declares ``objects = BytesDeferredManager()`` (or ``ScopedManager()``)
    and ``Meta.base_manager_name = "objects"`` so that a lazy foreign key (``line.file``) defers
    them too (deferring filters out no row, so it is safe as the base manager)."""

    def get_queryset(self):
        qs = super().get_queryset()
        fields = binary_fields(self.model)
        return qs.defer(*fields) if fields else qs
