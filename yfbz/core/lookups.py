"""``field__any=[…]``: membership in a long list as ONE array parameter (``field = ANY(%s)``) on
PostgreSQL instead of an ``IN (%s, %s, …)`` list. Building, converting and sending an IN list of 5,000
parameters costs more than the query itself (issue 12's profile: a third of the lookups' time was
Django's and psycopg's handling of the parameters); an array parameter is one value. Elsewhere (SQLite)
it is an ordinary IN list. Registered on every field (and foreign key) when this module is imported.

Even one array parameter costs per value: Django's ``get_db_prep_value`` and psycopg's array dumper took
~6.5 µs per value (3.2 s for the 500,000 ID numbers of a high-cost month, looked up four times). Plain
strings on a text column and plain ints on an integer column — every bulk caller's case — therefore go
as ONE text value split by the server (``string_to_array``): ~1 µs per value, nothing prepared per value
(the prepared form of a ``str`` for a text column, or of an ``int`` for an integer one, is itself)."""

from __future__ import annotations

import json

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup

TEXT_TYPES = frozenset({"CharField", "TextField", "SlugField", "EmailField"})
INT_TYPES = frozenset({"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
                       "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField"})
SEP = "\x1f"  # the unit separator: never in a name, a code or an ID number (a value holding it takes the array path)


def _internal_type(field) -> str:
    target = getattr(field, "target_field", None)  # a foreign key compares as its target column
    return (target if target is not None else field).get_internal_type()


def _as_one_text(field, values) -> tuple[str, str] | None:
    """(SQL of the array, the one text parameter) when every value is a plain str on a text column or a
    plain int on an integer column; else None (the general path)."""
    kinds = set(map(type, values))
    if len(kinds) != 1:
        return None
    kind, internal = kinds.pop(), _internal_type(field)
    if kind is str and internal in TEXT_TYPES:
        joined = SEP.join(values)
        if not joined or joined.count(SEP) != len(values) - 1 or "\x00" in joined:  # [""] would split into no value
            return None
        return "string_to_array(%s, E'\\x1f')", joined
    if kind is int and internal in INT_TYPES:
        return "string_to_array(%s, ',')::bigint[]", ",".join(map(str, values))
    return None


class Many:
    """A long list for ``field__any=Many(values)``: Django's query building walks a list or tuple value by
    value (``Query.resolve_lookup_value``: ~1 µs each, for nothing: these are plain values); this
    wrapper it leaves alone."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False
    can_use_none_as_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            rhs = self.rhs.values if isinstance(self.rhs, Many) else self.rhs
            rhs = rhs if isinstance(rhs, list | tuple) else list(rhs)
            fast = _as_one_text(self.lhs.output_field, rhs) if rhs else None
            if fast is not None:
                return f"{lhs} = ANY({fast[0]})", [*lhs_params, fast[1]]
        else:
            rhs = self.rhs
        values = [self.lhs.output_field.get_db_prep_value(v, connection, prepared=False) for v in rhs if v is not None]
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if connection.vendor == "sqlite" and len(values) > 900 and all(isinstance(v, (int, str)) for v in values):
            # more values than SQLite takes parameters (32,766): one JSON parameter, like the array
            return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, json.dumps(values)]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # person_id__any=[…] on a foreign key too
