"""``field__any=[…]``: membership in a long list as ONE array parameter (``field = ANY(%s)``) on
PostgreSQL instead of an ``IN (%s, %s, …)`` list. Building, converting and sending an IN list of 5,000
parameters costs more than the query itself (issue 12's profile: a third of the lookups' time was
Django's and psycopg's handling of the parameters); an array parameter is one value. Elsewhere (SQLite)
it is an ordinary IN list. Registered on every field (and foreign key) when this module is imported."""

from __future__ import annotations

import json

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False
    can_use_none_as_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [self.lhs.output_field.get_db_prep_value(v, connection, prepared=False) for v in self.rhs if v is not None]
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
