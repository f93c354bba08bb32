"""Lookups compiled to SQL once per process and run again with other values.

Django compiles a queryset to SQL each time it runs it. For the lookups every booking write
makes (the booking a state change moves, with its space, client and photographer; the client
with a phone number; a closure in a new booking's way) compiling costs several times what
running the SQL does: about 450 µs of the 550 µs a booking's ``select_related`` ``get()`` takes.
A ``CompiledLookup`` builds its queryset once per database from stand-in values, notes where they
land among the SQL's parameters, and from then on runs that SQL with the real values, turning the
rows into model instances as the queryset would (``select_related`` objects included), or for a
``values_list()`` queryset into its tuples.
"""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

# Per kind of value: the n-th stand-in of the first set, the n-th of the second, and the value as
# the ORM hands it to the database. A stand-in is unlikely to be among a query's own parameters
# (compiling checks that each is found exactly once) and an integer one fits every integer column,
# small and positive ones included (the ORM compiles a lookup of a value its column cannot hold to
# "no rows"). The two sets differ in every part (magnitude and parity, length, each field of a
# datetime), so that a value worked out from one differs between them too.
_KINDS = {
    int: (lambda n: 32_719 - n, lambda n: 2_468 - n, lambda value, connection: int(value)),
    str: (
        lambda n: f"\x00stand-in {n}\x00",
        lambda n: f"\x00another, longer stand-in {n}\x00",
        lambda value, connection: str(value),
    ),
    datetime: (
        lambda n: datetime(1901, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
        lambda n: datetime(1987, 7, 13, 13, 37, 11, 654_321, tzinfo=UTC) + timedelta(seconds=n),
        lambda value, connection: connection.ops.adapt_datetimefield_value(value),
    ),
}
# A whole number beyond 64 bits, which SQLite would refuse to be asked for, is left to the ORM.
_INT_RANGE = range(-(2**63), 2**63)


class CompiledLookup:
    """``build(**values)`` — a queryset whose parameters are ``values``, of the kinds ``kinds``
    names (whole numbers, text, aware datetimes) — compiled once; ``fetch(**values)`` returns its
    model instances, or its tuples for a ``values_list()``.

    Each value must be one parameter of the SQL, and nothing else in it may depend on the values:
    a parameter worked out from one (``start - 12h``) would keep its stand-in's value, so ``build``
    takes such a value as one of its own. Compiling again from a second set of stand-ins refuses a
    query whose SQL differs anywhere else, which catches such a value unless it comes out the same
    for both sets."""

    def __init__(self, build: Callable[..., QuerySet], **kinds: type):
        if unsupported := {name for name, kind in kinds.items() if kind not in _KINDS}:
            raise TypeError(
                f"CompiledLookup takes whole numbers, text and datetimes, not {', '.join(sorted(unsupported))}"
            )
        self._build = build
        self._kinds = kinds
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    @cached_property
    def _model(self) -> type[Model]:
        return self._build(**self._stand_ins()).model

    def _stand_ins(self, which: int = 0) -> dict:
        # Numbered: two parameters of one kind must not share a stand-in.
        return {name: _KINDS[kind][which](number) for number, (name, kind) in enumerate(self._kinds.items())}

    def fetch(self, *, using: str | None = None, **values) -> list:
        """What the queryset ``build(**values)`` gives, read from the database ``using`` (the
        router's choice for reading its model by default)."""
        if any(isinstance(value, datetime) and value.utcoffset() is None for value in values.values()):
            raise TypeError("CompiledLookup takes aware datetimes only")
        alias = using or router.db_for_read(self._model)
        connection = connections[alias]
        sent = {name: _KINDS[kind][2](values[name], connection) for name, kind in self._kinds.items()}
        if any(type(value) is int and value not in _INT_RANGE for value in sent.values()):
            return list(self._build(**{name: sent.get(name, value) for name, value in values.items()}).using(alias))
        compiled = self._compiled.get(alias) or self._compile(alias)
        params = list(compiled.params)
        for name, position in compiled.slots.items():
            params[position] = sent[name]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return compiled.results(rows, connection)

    def _compile(self, alias: str) -> "_Compiled":
        with self._lock:
            if alias not in self._compiled:
                compiler, sql, params, slots, tuples = self._compiled_with(self._stand_ins(), alias)
                # Built again from other stand-ins, only the values' own places may change.
                _, other_sql, other_params, other_slots, _ = self._compiled_with(self._stand_ins(1), alias)
                same_shape = other_sql == sql and len(other_params) == len(params) and other_slots == slots
                changed = {
                    index for index, (one, other) in enumerate(zip(params, other_params, strict=False)) if one != other
                }
                if not same_shape or changed != set(slots.values()):
                    raise TypeError("the compiled query depends on its values beyond their places")
                self._compiled[alias] = _Compiled(alias, compiler, sql, tuple(params), slots, tuples=tuples)
            return self._compiled[alias]

    def _compiled_with(self, stand_ins: dict, alias: str) -> tuple:
        queryset = self._build(**stand_ins)
        values_list = queryset._iterable_class is ValuesListIterable
        if (
            queryset.query.annotations
            or queryset._known_related_objects
            or queryset._iterable_class not in (ModelIterable, ValuesListIterable)
        ):
            raise TypeError("CompiledLookup builds plain model instances or values_list() tuples: no annotations")
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()  # also fills compiler.select and klass_info
        slots = {}
        for name, stand_in in stand_ins.items():
            sent = _KINDS[self._kinds[name]][2](stand_in, connections[alias])
            positions = [index for index, param in enumerate(params) if param == sent]
            if len(positions) != 1:
                raise TypeError(f"{name} must be one parameter of the compiled query")
            slots[name] = positions[0]
        return compiler, sql, params, slots, values_list


class _Compiled:
    """One database's SQL of a lookup, and what turns its rows into model instances as
    ``QuerySet``'s ``ModelIterable`` does (or into tuples as ``ValuesListIterable`` does), worked out once."""

    def __init__(self, alias: str, compiler, sql: str, params: tuple, slots: dict[str, int], *, tuples: bool):
        self.sql, self.params, self.slots = sql, params, slots
        self.alias = alias
        select, klass_info = compiler.select, compiler.klass_info
        columns = [column for column, _, _ in select[: compiler.col_count]]
        if compiler.has_composite_fields(columns):
            raise TypeError("CompiledLookup does not read composite primary keys")
        self.converters = compiler.get_converters(columns)
        self.tuples = tuples
        # A distinct() query selects its ordering's columns too: a values_list() row ends before them.
        self.width = compiler.col_count
        if tuples:
            return
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.names = [column.target.attname for column, _, _ in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, alias)

    def results(self, rows: list, connection) -> list:
        """``rows`` as model instances, or tuples for a ``values_list()``; ``connection``, this
        thread's, is what the converters read."""
        if self.tuples:
            if not self.converters:
                return [tuple(row[: self.width]) for row in rows]
            return [tuple(_converted(row, self.converters, connection)[: self.width]) for row in rows]
        instances = []
        for row in rows:
            if self.converters:
                row = _converted(row, self.converters, connection)
            instance = self.model.from_db(self.alias, self.names, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, instance)
            instances.append(instance)
        return instances


def _converted(row, converters: dict, connection) -> list:
    """``row`` with the ORM's ``converters`` (``SQLCompiler.get_converters``) applied, as it reads rows."""
    row = list(row)
    for position, (functions, expression) in converters.items():
        for convert in functions:
            row[position] = convert(row[position], expression, connection)
    return row
