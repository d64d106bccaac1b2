"""The data-boundary checks, run inside the engine: each problem is counted by one query over the table
and reported with the wording of bayescausal.data.validate, naming example rows by their key values (an
engine has no file lines), so nothing is pulled into memory to find out that a table is wrong."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bayescausal.data.validate import MAX_ABS, problem
from bayescausal.errors import DataError

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from bayescausal.data.engine import Scan

Predicate = Callable[["ir.Table"], "ir.BooleanValue"]


@dataclass(frozen=True)
class Rule:
    """Rows for which `bad` holds are a `kind` of problem (a key of validate.PROBLEMS) in column `col`."""

    kind: str
    col: str
    bad: Predicate
    fields: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The count's name in the query (what a report's provenance shows): rows that are not `kind`."""
        return f"not_{self.kind}_{self.col}"


def require_numeric(scan: Scan, columns, *, what: str, booleans: tuple[str, ...] = ()) -> None:
    """Numbers by type (booleans too, for the columns named in `booleans`); the engine's schema says."""
    schema = scan.table.schema()
    for col in columns:
        kind = schema[col]
        if not (kind.is_numeric() or (kind.is_boolean() and col in booleans)):
            raise DataError(f"{what}: column '{col}' must be numeric, found {kind}. Clean or convert it.")


def finite(col: str, scan: Scan) -> Rule:
    floating = scan.table.schema()[col].is_floating()
    return Rule("finite", col, lambda t: t[col].isnull() | (t[col].isnan() | t[col].isinf() if floating else False))


def nonnegative(col: str) -> Rule:
    return Rule("nonnegative", col, lambda t: t[col] < 0)


def representable(col: str) -> Rule:
    return Rule("representable", col, lambda t: t[col].abs() > MAX_ABS, {"limit": MAX_ABS})


def at_most(small: str, large: str) -> Rule:
    return Rule("at_most", small, lambda t: t[small] > t[large], {"large": large})


def counts(col: str, scan: Scan) -> list[Rule]:
    """A count column: finite, non-negative, whole."""
    whole = Rule("integer", col, lambda t: (t[col].cast("float64") % 1.0) != 0)
    return [finite(col, scan), nonnegative(col), whole]


def largest(t: ir.Table, columns) -> ir.FloatingScalar:
    """The largest |value| over `columns`, at least 1: the bound that fixes an exact sum's scale
    (bayescausal.data.engine.exact_sum)."""
    import ibis

    return ibis.greatest(1.0, *(t[c].cast("float64").abs().max() for c in columns)) if columns else ibis.literal(1.0)


def enforce(
    scan: Scan,
    rules: list[Rule],
    *,
    what: str,
    keys: list[str],
    also: dict | None = None,
    table: ir.Table | None = None,
) -> dict:
    """Count every rule's offending rows in one pass over the table (the scan's, or `table`: some of its rows);
    raise the first rule that any row breaks, with example rows named by `keys` (or, for whole-number checks,
    the offending values). `also`: further aggregates computed in the same pass, returned."""
    t = scan.table if table is None else table
    sums = {rule.name: rule.bad(t).fill_null(False).cast("int64").sum() for rule in rules}
    found = scan.one_row(t.agg(**sums, **(also or {})), "checking the rows")
    for rule in rules:
        n = int(found[rule.name] or 0)
        if n:
            shown = [rule.col] if rule.kind == "integer" else keys
            where = examples(scan, rule.bad, shown, table=t)
            raise problem(rule.kind, what=what, col=rule.col, n=n, where=where, **rule.fields)
    return {k: found[k] for k in also or {}}


def examples(scan: Scan, bad: Predicate, keys: list[str], limit: int = 3, table: ir.Table | None = None) -> str:
    """The first few offending rows in key order, as 'e.g. arm='B', day=3; ...'."""
    t = scan.table if table is None else table
    offending = t.filter(bad(t).fill_null(False)).select(*keys).distinct()
    rows = scan.fetch(offending.order_by(keys).limit(limit), "examples")
    shown = "; ".join(", ".join(f"{k}={_plain(v)!r}" for k, v in row.items()) for row in rows.to_dict("records"))
    return f"e.g. {shown}"


def _plain(value):
    """numpy scalars as plain Python values, so messages read the same from every engine."""
    return value.item() if hasattr(value, "item") else value
