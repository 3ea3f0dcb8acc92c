"""Hot statements run on the driver's cursor, beneath SQLAlchemy's `Connection.execute`.

The queue's PostgreSQL statements (claim, record: see services.queue.fastpath) are built with
SQLAlchemy Core and run thousands of times a minute. `Connection.execute` costs more client CPU
than the statement's round trip on that path: the compiled-cache lookup, an execution context,
the bound values processed one by one, psycopg parsing the `%(name)s` placeholders of a statement
over 4 kB at every call, and psycopg building a column description for every column of every
result because SQLAlchemy asks for it. `DriverStatement` compiles a statement once for an
engine's dialect into SQL with `$n` placeholders (psycopg's RawCursor: nothing to parse), the
parameters' order, their bind processors and the result's column names; `run` executes it,
prepared from its first run, on the connection's own psycopg connection with SQLAlchemy's
`before_cursor_execute` events and its error handling (a lost connection is invalidated and
raised as the same DBAPIError as from `execute`), and hands back the rows as plain tuples
(`Row` adds attribute and `_mapping` access to one of them).

PostgreSQL (psycopg) only; SQLite keeps `Connection.execute`.
"""

from __future__ import annotations

import re
import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any, cast

from psycopg import RawCursor
from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_PLACEHOLDER = re.compile(r"%%|%\(([^)]+)\)s")
_REQUIRED = object()


class DriverStatement:
    """One statement compiled for one dialect (see the module's docstring)."""

    __slots__ = ("sql", "binds", "keys", "row", "_results")

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=dialect))
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement with values rendered at execution cannot run here")
        unescaped = {v: k for k, v in (compiled.escaped_bind_names or {}).items()}
        order: list[str] = []

        def number(m: re.Match[str]) -> str:
            if m.group(1) is None:
                return "%"  # pyformat's escaped percent sign, a plain one in $n form
            name = unescaped.get(m.group(1), m.group(1))
            assert name is not None
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        self.sql = _PLACEHOLDER.sub(number, compiled.string)
        # (name, value fixed in the statement or _REQUIRED, bind processor or None)
        binds: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for name in order:
            bp = compiled.binds[name]
            if bp.expanding:
                raise ValueError(f"expanding parameter {name!r} cannot run here")
            fixed = _REQUIRED if bp.required else bp.effective_value
            binds.append((name, fixed, bp.type._cached_bind_processor(dialect)))
        self.binds = tuple(binds)
        columns = getattr(stmt, "selected_columns", None)
        self.keys: tuple[str, ...] = tuple(columns.keys()) if columns is not None else ()
        results = []
        for i, col in enumerate(columns or ()):
            proc = col.type._cached_result_processor(dialect, None)
            if proc is not None:
                results.append((i, proc))
        self._results = tuple(results)
        # attribute access by column name (a repeated name is reached by position only)
        # (field names known at run time only: mypy types no such namedtuple)
        base = namedtuple("Row", self.keys or ("_",), rename=True)  # type: ignore[misc]

        class Row(base):
            __slots__ = ()

            @property
            def _mapping(self) -> dict[str, Any]:
                return dict(zip(self._fields, self, strict=True))

        self.row = Row

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, fixed, proc in self.binds:
            value = params[name] if fixed is _REQUIRED else params.get(name, fixed)
            out.append(proc(value) if proc is not None else value)
        return out

    def run(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of the statement run with `params` on `conn`, as tuples."""
        sql, args = self.sql, self.args(params)
        # (a live Connection's driver_connection is psycopg's, never None)
        cursor: Any = RawCursor(conn.connection.driver_connection)  # type: ignore[arg-type]
        try:
            for fn in conn.dispatch.before_cursor_execute:
                sql, args = fn(conn, cursor, sql, args, None, False)
            # prepared at its first run, as the floor's (psycopg's own threshold is the fifth:
            # four more parses and plans of each statement, and of each pattern of NULLs)
            cursor.execute(sql, args, prepare=True)
            conn.dispatch.after_cursor_execute(conn, cursor, sql, args, None, False)
            rows = cursor.fetchall()
        except BaseException as e:
            # SQLAlchemy's handling, as for `execute`: a lost connection is invalidated, the
            # driver's error raised as SQLAlchemy's (OperationalError, IntegrityError...)
            conn._handle_dbapi_exception(e, sql, args, cursor, None)
        finally:
            cursor.close()
        if self._results:
            rows = [self._processed(r) for r in rows]
        return rows

    def _processed(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for i, proc in self._results:
            values[i] = proc(values[i])
        return tuple(values)

    def named(self, row: tuple[Any, ...]) -> Any:
        """`row` with attribute access by column name and `_mapping`, as a SQLAlchemy Row."""
        return self.row._make(row)


_COMPILED: weakref.WeakKeyDictionary[Dialect, dict[ClauseElement, DriverStatement]] = (
    weakref.WeakKeyDictionary()
)


def driver_statement(conn: Connection, stmt: ClauseElement) -> DriverStatement:
    """`stmt` compiled for `conn`'s dialect, once per dialect (an engine's)."""
    per = _COMPILED.get(conn.dialect)
    if per is None:
        per = _COMPILED.setdefault(conn.dialect, {})
    got = per.get(stmt)
    if got is None:
        got = per[stmt] = DriverStatement(stmt, conn.dialect)
    return got
