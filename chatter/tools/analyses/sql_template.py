"""Analysis SQL as parsed templates whose placeholder identifiers are swapped, in the syntax
tree, for names taken from the semantic model: no text from a user is ever pasted into SQL.

Placeholders are upper-case identifiers starting with ``T_`` (a physical table), ``A_`` (a
table alias, the model's table name) or ``C_`` (a column). Values go in as ``$name`` parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from functools import cache, lru_cache, wraps

import sqlglot
from sqlglot import exp

from chatter.semantic.compiler import DIALECT


@cache
def _parse(template: str) -> exp.Expr:
    return sqlglot.parse_one(template, read=DIALECT)


def built_once(build: Callable[..., exp.Expr]) -> Callable[..., exp.Expr]:
    """``build`` (a pure function of hashable positional arguments: sources, names, counts)
    run once per arguments; each call gets a copy of the tree it built, the caller's own to
    change. Kept for 1,024 argument sets: templates times the models' names are few."""
    cached = lru_cache(maxsize=1024)(build)

    @wraps(build)
    def copy(*args: Hashable) -> exp.Expr:
        return cached(*args).copy()

    return copy


def build_sql(template: str, names: Mapping[str, str]) -> exp.Expr:
    """Parse ``template`` and replace each placeholder identifier by its (quoted) name: a
    tree of the caller's own (built once per template and names, then copied).

    >>> build_sql("SELECT A_X.C_K FROM T_X AS A_X", {"T_X": "users", "A_X": "users",
    ...     "C_K": "user_id"}).sql("duckdb")
    'SELECT "users"."user_id" FROM "users" AS "users"'
    """
    return _built(template, tuple(sorted(names.items())))


@built_once
def _built(template: str, items: tuple[tuple[str, str], ...]) -> exp.Expr:
    names = dict(items)
    unused = set(names)

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Identifier) and node.name in names:
            unused.discard(node.name)
            return exp.to_identifier(names[node.name], quoted=True)
        return node

    ast = _parse(template).transform(swap)  # a copy: the parsed template stays as it was
    if unused:  # a template and its caller disagree: a bug, not a user error
        raise AssertionError(f"placeholders not in the template: {sorted(unused)}")
    leftover = sorted(
        {
            i.name
            for i in ast.find_all(exp.Identifier)
            if i.name[:2] in ("T_", "A_", "C_") and i.name.isupper()
        }
    )
    if leftover:
        raise AssertionError(f"placeholders without a name: {leftover}")
    return ast
