"""Database tables and query results as profiles and Documents (SQLAlchemy reflection).

A table's columns (reflected) or a query's result columns become a profile, with
SQL types mapped to element types by ``functools.singledispatch`` on SQLAlchemy's
type classes (so a dialect's subclass of ``Numeric`` is still a decimal). Rows
stream out in batches with server-side cursors where the driver has them, so a
large table never sits in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import singledispatch
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from atomnb.documents import DEFAULT_BATCH_ROWS, Documents, DocumentStream
from atomnb.errors import ConnectorError, ProfileError
from atomnb.profiles import Element, ElementType, Profile, infer_profile, to_arrow_schema

__all__ = [
    "database_message",
    "element_for_sql_type",
    "profile_from_query",
    "profile_from_table",
    "read_query",
]

EngineLike = Engine | str


@singledispatch
def element_for_sql_type(sql_type: sa.types.TypeEngine[Any], name: str) -> Element:
    """The profile element for a column of ``sql_type``; unknown types are kept as text."""
    return Element(name, ElementType.STRING)


@element_for_sql_type.register
def _(sql_type: sa.types.Integer, name: str) -> Element:
    return Element(name, ElementType.INTEGER)


@element_for_sql_type.register
def _(sql_type: sa.types.Numeric[Any], name: str) -> Element:
    if isinstance(sql_type, sa.types.Float) or sql_type.scale is None:
        return Element(name, ElementType.DECIMAL)
    return Element(name, ElementType.DECIMAL, scale=sql_type.scale)


@element_for_sql_type.register
def _(sql_type: sa.types.Boolean, name: str) -> Element:
    return Element(name, ElementType.BOOLEAN)


@element_for_sql_type.register
def _(sql_type: sa.types.DateTime, name: str) -> Element:
    return Element(
        name, ElementType.DATETIME, mask=None if sql_type.timezone else "%Y-%m-%dT%H:%M:%S"
    )


@element_for_sql_type.register
def _(sql_type: sa.types.Date, name: str) -> Element:
    return Element(name, ElementType.DATE)


@element_for_sql_type.register
def _(sql_type: sa.types.Time, name: str) -> Element:
    return Element(name, ElementType.TIME)


@element_for_sql_type.register
def _(sql_type: sa.types.String, name: str) -> Element:
    return Element(name, ElementType.STRING, max_length=sql_type.length)


def _engine(engine: EngineLike) -> Engine:
    return sa.create_engine(engine) if isinstance(engine, str) else engine


def profile_from_table(engine: EngineLike, table: str, *, schema: str | None = None) -> Profile:
    """A profile of ``table``'s columns: types, lengths, and NOT NULL as mandatory."""
    bind = _engine(engine)
    try:
        columns = sa.inspect(bind).get_columns(table, schema=schema)
    except NoSuchTableError:
        raise ProfileError(
            f"no table {table!r} in {bind.url.render_as_string(hide_password=True)}"
        ) from None
    except SQLAlchemyError as exc:
        raise ConnectorError(f"cannot reflect table {table!r}: {exc}") from None
    elements = []
    for column in columns:
        element = element_for_sql_type(column["type"], column["name"])
        mandatory = not column.get("nullable", True)
        elements.append(Element(**{**_fields(element), "mandatory": mandatory}))
    return Profile(
        name=table, elements=tuple(elements), format="database", options={"table": table}
    )


def profile_from_query(
    engine: EngineLike, query: str, params: Mapping[str, Any] | None = None, *, name: str = "query"
) -> Profile:
    """A profile of a query's result columns (the query runs with LIMIT 0 semantics: no rows)."""
    bind = _engine(engine)
    wrapped = sa.text(f"SELECT * FROM ({query}) AS atomnb_q WHERE 1 = 0")
    try:
        with bind.connect() as connection:
            result = connection.execute(wrapped, dict(params or {}))
            described = result.cursor.description if result.cursor is not None else []
    except SQLAlchemyError as exc:
        raise ConnectorError(f"cannot describe query: {database_message(exc)}") from None
    options = {"query": query}
    if bind.dialect.name != "postgresql":
        # Drivers such as SQLite describe no column types: learn them from sample rows.
        sampled = f"SELECT * FROM ({query}) AS atomnb_q LIMIT {_SAMPLE_ROWS}"
        sample = _stream(bind, sampled, params, None, _SAMPLE_ROWS)
        inferred = infer_profile(sample.collect(), name=name, format="database")
        return Profile(name=name, elements=inferred.elements, format="database", options=options)
    elements = [element_for_sql_type(_pg_type(e[1]), e[0]) for e in described]
    return Profile(name=name, elements=tuple(elements), format="database", options=options)


_SAMPLE_ROWS = 200


def read_query(
    engine: EngineLike,
    query: str,
    params: Mapping[str, Any] | None = None,
    *,
    profile: Profile | None = None,
    batch_size: int = DEFAULT_BATCH_ROWS,
) -> DocumentStream:
    """Rows of a query as Documents, ``batch_size`` rows at a time; values stay bound."""
    bind = _engine(engine)
    schema = to_arrow_schema(profile or profile_from_query(bind, query, params))
    return _stream(bind, query, params, schema, batch_size)


def _stream(
    bind: Engine,
    query: str,
    params: Mapping[str, Any] | None,
    schema: pa.Schema | None,
    batch_size: int,
) -> DocumentStream:
    """Stream rows; with a schema each column is cast to it, without one kept as found."""
    source = f"query on {bind.url.render_as_string(hide_password=True)}"

    def batches() -> Iterator[Documents]:
        try:
            with bind.connect() as connection:
                result = connection.execution_options(stream_results=True).execute(
                    sa.text(query), dict(params or {})
                )
                names = list(result.keys())
                for rows in result.partitions(batch_size):
                    table = _rows_to_table(rows, names, schema, source)
                    yield Documents(table, {"source": pa.repeat(source, table.num_rows)})
        except SQLAlchemyError as exc:
            raise ConnectorError(f"query failed: {database_message(exc)}", where=source) from None

    return DocumentStream(batches(), source=source, schema=schema)


def _rows_to_table(
    rows: Sequence[sa.Row[Any]], names: list[str], schema: pa.Schema | None, source: str
) -> pa.Table:
    """Column by column: drivers hand back loosely typed values (SQLite gives floats for
    NUMERIC and text for DATE), so each column is built as found, then cast to the profile."""
    arrays = []
    for index, name in enumerate(names):
        values = [row[index] for row in rows]
        target = schema.field(name).type if schema is not None and name in schema.names else None
        try:
            array = pa.array(values)
            arrays.append(array if target is None or array.type == target else array.cast(target))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise ConnectorError(
                f"column {name!r} does not fit {target}: {str(exc).splitlines()[0]}", where=source
            ) from None
    return pa.Table.from_arrays(arrays, names=names)


def _fields(element: Element) -> dict[str, Any]:
    return {f: getattr(element, f) for f in element.__dataclass_fields__}


def _pg_type(type_code: object) -> sa.types.TypeEngine[Any]:
    """PostgreSQL describes result columns by type OID."""
    return _PG_OIDS.get(type_code, sa.String()) if isinstance(type_code, int) else sa.String()


_PG_OIDS: dict[int, sa.types.TypeEngine[Any]] = {
    16: sa.Boolean(),
    20: sa.BigInteger(),
    21: sa.SmallInteger(),
    23: sa.Integer(),
    700: sa.Float(),
    701: sa.Float(),
    1700: sa.Numeric(),
    1082: sa.Date(),
    1083: sa.Time(),
    1114: sa.DateTime(),
    1184: sa.DateTime(timezone=True),
}


def database_message(exc: Exception) -> str:
    """The database driver's own first line (SQLAlchemy wraps it in several more)."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
