"""Execution accuracy of chatter's answers against hand-written gold SQL.

``python bench/bench_answers.py [SET] [--show-misses] [--only CATEGORY] [--seed N]``

The questions live in ``bench/answers/<set>.yaml`` (tuning, holdout, holdout_fresh, holdout_third,
holdout_fourth, holdout_fifth, holdout_sixth, holdout_seventh, holdout_eighth, holdout_ninth,
holdout_tenth, holdout_eleventh: a set may name
its own dataset generator and today); each has a ``question``, a ``category`` and either
``gold_sql`` (DuckDB SQL over the raw tables; ``ordered: true`` when the row order is part of the
answer) or ``expect: clarify`` (the question names a level the data does not have, so the analyst
should ask back). The data is the bench's own dataset (``bench/answers/dataset.py``, levels unlike
the demo's), built once per seed into a temporary directory. ``CHATTER_TODAY`` is fixed at 2025-01-15 so relative windows are reproducible, and
``CHATTER_HOME`` is a fresh temporary directory (no cache from earlier runs).

An answer is correct when its table (the first step with rows or columns) holds the gold result:
every gold column maps to a distinct answer column whose values equal it row by row (numbers within
a relative 1e-6 or absolute 1e-9, dates as ISO text, text and booleans exactly, None equals None),
with as many rows, as a multiset of rows unless the question is ordered. Extra answer columns are
allowed. ``expect: clarify`` is correct when the answer asks back.

This is a bench: it prints ratios measured in this run and always exits 0 (``--check-gold`` only
runs the gold SQL and prints each result's size).
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import hashlib
import importlib.util
import itertools
import math
import os
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

HERE = Path(__file__).resolve().parent
ANSWERS = HERE / "answers"
TODAY = "2025-01-15"
REL_TOL = 1e-6
ABS_TOL = 1e-9


def _load_dataset_module(generator: str = "dataset.py"):
    spec = importlib.util.spec_from_file_location("bench_answers_dataset", ANSWERS / generator)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def dataset_path(seed: int, generator: str = "dataset.py") -> Path:
    """The bench database for ``seed``, built once (keyed by the seed and the sources of the
    generator and of the mechanics it shares with the others)."""
    source = (ANSWERS / generator).read_bytes() + (ANSWERS / "_shared.py").read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:10]
    root = Path(os.environ.get("CHATTER_BENCH_DIR", Path(tempfile.gettempdir()) / "chatter-bench"))
    path = root / "answers" / f"answers-{Path(generator).stem}-seed{seed}-{digest}.duckdb"
    if not path.exists():
        print(f"(building the answer dataset at {path})", flush=True)
        _load_dataset_module(generator).make_answer_dataset(path, seed=seed)
    return path


# ---------------------------------------------------------------------------------------------
# questions


@dataclass
class Item:
    question: str
    category: str
    gold_sql: str | None = None
    ordered: bool = False
    expect: str | None = None


def set_settings(name: str) -> tuple[str, str]:
    """A set's dataset generator and today: a set may name its own (``dataset:`` a generator
    file in bench/answers, ``today:`` a date), else dataset.py and 2025-01-15."""
    raw = yaml.safe_load((ANSWERS / f"{name}.yaml").read_text())
    if not isinstance(raw, dict):
        return "dataset.py", TODAY
    return str(raw.get("dataset", "dataset.py")), str(raw.get("today", TODAY))


def load_items(name: str) -> list[Item]:
    raw = yaml.safe_load((ANSWERS / f"{name}.yaml").read_text())
    entries = raw["questions"] if isinstance(raw, dict) else raw
    items = []
    for i, entry in enumerate(entries):
        if "question" not in entry or "category" not in entry:
            raise SystemExit(f"{name}.yaml entry {i}: needs 'question' and 'category'")
        if bool(entry.get("gold_sql")) == (entry.get("expect") == "clarify"):
            raise SystemExit(
                f"{name}.yaml entry {i}: needs exactly one of gold_sql, expect: clarify"
            )
        items.append(
            Item(
                question=str(entry["question"]),
                category=str(entry["category"]),
                gold_sql=entry.get("gold_sql"),
                ordered=bool(entry.get("ordered", False)),
                expect=entry.get("expect"),
            )
        )
    return items


# ---------------------------------------------------------------------------------------------
# comparing tables

_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]00:00:00(?:\.0+)?(?:Z|[+-]00:?00)?$")
_ISO_TS = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)$")


def norm(value: Any) -> tuple:
    """A value as (kind, payload): kinds are null, bool, num and text (dates become ISO text)."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float, decimal.Decimal)) or type(value).__module__ == "numpy":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return ("text", str(value))
        if math.isnan(number):
            return ("null",)
        if type(value).__name__.startswith("bool"):  # numpy bool
            return ("bool", bool(value))
        return ("num", number)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return ("text", value.date().isoformat())
        return ("text", value.isoformat(sep=" "))
    if isinstance(value, dt.date):
        return ("text", value.isoformat())
    if hasattr(value, "isoformat"):  # pandas Timestamp and friends
        return norm(value.to_pydatetime() if hasattr(value, "to_pydatetime") else str(value))
    text = str(value)
    match = _MIDNIGHT.match(text)
    if match:
        return ("text", match.group(1))
    match = _ISO_TS.match(text)
    if match:
        return ("text", f"{match.group(1)} {match.group(2)}")
    return ("text", text)


def same(a: tuple, b: tuple) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "num":
        x, y = a[1], b[1]
        if math.isinf(x) or math.isinf(y):
            return x == y
        return abs(x - y) <= ABS_TOL or abs(x - y) <= REL_TOL * max(abs(x), abs(y))
    return a == b


def _key(v: tuple) -> tuple:
    order = {"null": 0, "bool": 1, "num": 2, "text": 3}[v[0]]
    if v[0] == "num":
        return (order, float(f"{v[1]:.8g}"), "")
    if v[0] == "null":
        return (order, 0.0, "")
    if v[0] == "bool":
        return (order, float(v[1]), "")
    return (order, 0.0, v[1])


def _rows_equal(gold: list[tuple], got: list[tuple], ordered: bool) -> bool:
    if len(gold) != len(got):
        return False
    if ordered:
        return all(
            all(same(a, b) for a, b in zip(g, h, strict=True))
            for g, h in zip(gold, got, strict=True)
        )
    sg = sorted(gold, key=lambda r: tuple(_key(v) for v in r))
    sh = sorted(got, key=lambda r: tuple(_key(v) for v in r))
    if all(all(same(a, b) for a, b in zip(g, h, strict=True)) for g, h in zip(sg, sh, strict=True)):
        return True
    if len(gold) > 3000:
        return False
    # values within tolerance may sort differently: greedy matching as a fallback
    unused = list(range(len(got)))
    for g in gold:
        for pos, j in enumerate(unused):
            if all(same(a, b) for a, b in zip(g, got[j], strict=True)):
                del unused[pos]
                break
        else:
            return False
    return True


def match_table(
    gold_cols: list[str],
    gold_rows: list[tuple],
    ans_cols: list[str],
    ans_rows: list[dict],
    ordered: bool,
) -> tuple[bool, str]:
    """Whether the answer table holds the gold table; with a short reason when it does not."""
    if len(gold_rows) != len(ans_rows):
        return False, f"{len(ans_rows)} rows, gold has {len(gold_rows)}"
    if not gold_rows:
        return True, "both empty"
    k = len(gold_cols)
    if len(ans_cols) < k:
        return False, f"{len(ans_cols)} columns, gold needs {k}"
    gold = [tuple(norm(v) for v in row) for row in gold_rows]
    answer = [[norm(row.get(c)) for c in ans_cols] for row in ans_rows]

    # candidates per gold column: answer columns holding the same values (as a multiset)
    candidates: list[list[int]] = []
    for gi in range(k):
        gvals = [(r[gi],) for r in gold]
        cands = [
            ai
            for ai in range(len(ans_cols))
            if _rows_equal(gvals, [(r[ai],) for r in answer], ordered)
        ]
        if not cands:
            return False, f"no answer column holds gold column {gold_cols[gi]!r}"
        candidates.append(cands)

    for combo in itertools.product(*candidates):
        if len(set(combo)) != k:
            continue
        projected = [tuple(r[ai] for ai in combo) for r in answer]
        if _rows_equal(gold, projected, ordered):
            return True, "match"
    return False, "columns match one by one but not as rows" + (" (in order)" if ordered else "")


def answer_table(doc: dict) -> tuple[list[str], list[dict]] | None:
    steps = doc.get("steps") or []
    chosen = None
    if doc.get("workflow") == "query" and steps:
        chosen = steps[0]
    else:
        for step in steps:
            if step.get("rows") or step.get("columns"):
                chosen = step
                break
    if chosen is None:
        return None
    rows = chosen.get("rows") or []
    cols = list(chosen.get("columns") or [])
    for row in rows:
        for c in row:
            if c not in cols:
                cols.append(c)
    return cols, rows


# ---------------------------------------------------------------------------------------------
# running


@dataclass
class Outcome:
    item: Item
    correct: bool
    reason: str
    gold_cols: list[str] = field(default_factory=list)
    gold_rows: list[tuple] = field(default_factory=list)
    answer_cols: list[str] = field(default_factory=list)
    answer_rows: list[dict] = field(default_factory=list)
    workflow: str | None = None
    interpretation: Any = None
    text: str = ""


def run_gold(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return cols, cur.fetchall()


def asks_back(doc: dict) -> bool:
    return bool(doc.get("clarification")) or doc.get("workflow") == "clarify"


def gold_results(db: Path, items: list[Item]) -> list[tuple[list[str], list[tuple]] | str]:
    """Every gold result, computed before chatter opens the file (DuckDB refuses a second
    connection to one file with another configuration in the same process)."""
    results: list[tuple[list[str], list[tuple]] | str] = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        for item in items:
            if not item.gold_sql:
                results.append(([], []))
                continue
            try:
                results.append(run_gold(con, item.gold_sql))
            except Exception as exc:  # a broken gold query is the bench's bug: say so loudly
                results.append(f"GOLD SQL FAILED: {exc}")
    finally:
        con.close()
    return results


def _describe(exc: BaseException) -> str:
    parts = []
    while exc is not None and len(parts) < 4:
        parts.append(f"{type(exc).__name__}: {exc}".strip())
        exc = exc.__cause__ or exc.__context__
    return " <- ".join(parts)


def score_one(
    chatter: Any, db: Path, item: Item, gold: tuple[list[str], list[tuple]] | str
) -> Outcome:
    if isinstance(gold, str):
        return Outcome(item, False, gold)
    gold_cols, gold_rows = gold
    try:
        answer = chatter.ask(item.question, database=db)
        doc = answer.model_dump()
    except Exception as exc:
        return Outcome(item, False, f"exception: {_describe(exc)}", gold_cols, gold_rows)
    out = Outcome(
        item,
        False,
        "",
        gold_cols,
        gold_rows,
        workflow=doc.get("workflow"),
        interpretation=doc.get("interpretation"),
        text=str(doc.get("text") or ""),
    )
    table = answer_table(doc)
    if table is not None:
        out.answer_cols, out.answer_rows = table
    if item.expect == "clarify":
        out.correct = asks_back(doc)
        out.reason = "asked back" if out.correct else f"answered ({doc.get('workflow')})"
        return out
    if asks_back(doc):
        out.reason = "asked back"
        return out
    if table is None:
        out.reason = f"no table (workflow {doc.get('workflow')}, status {doc.get('status')})"
        return out
    out.correct, out.reason = match_table(
        gold_cols, gold_rows, out.answer_cols, out.answer_rows, item.ordered
    )
    return out


def _fmt_rows(cols: list[str], rows: list, limit: int = 5) -> str:
    lines = []
    for row in rows[:limit]:
        if isinstance(row, dict):
            lines.append("      " + ", ".join(f"{c}={row.get(c)!r}" for c in cols))
        else:
            lines.append(
                "      " + ", ".join(f"{c}={v!r}" for c, v in zip(cols, row, strict=False))
            )
    if len(rows) > limit:
        lines.append(f"      ... ({len(rows)} rows)")
    if not rows:
        lines.append(f"      (no rows; columns {cols})")
    return "\n".join(lines)


def check_gold(items: list[Item], db: Path) -> None:
    con = duckdb.connect(str(db), read_only=True)
    for item in items:
        if not item.gold_sql:
            print(f"  [clarify] {item.question}")
            continue
        try:
            cols, rows = run_gold(con, item.gold_sql)
            print(f"  [{len(rows):>4} rows x {len(cols)}] {item.question}")
        except Exception as exc:
            print(f"  [FAILED] {item.question}: {exc}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sets = sorted(p.stem for p in ANSWERS.glob("*.yaml"))
    parser.add_argument("set", nargs="?", default="tuning", choices=sets)
    parser.add_argument("--show-misses", action="store_true", help="print every miss")
    parser.add_argument("--only", metavar="CATEGORY", help="ask only this category")
    parser.add_argument("--seed", type=int, default=11, help="dataset seed (default 11)")
    parser.add_argument("--check-gold", action="store_true", help="only run the gold SQL")
    args = parser.parse_args(argv)

    items = load_items(args.set)
    if args.only:
        items = [i for i in items if i.category == args.only]
    generator, today = set_settings(args.set)
    db = dataset_path(args.seed, generator)
    if args.check_gold:
        check_gold(items, db)
        return 0

    # the environment chatter reads, fixed before it is imported
    os.environ["CHATTER_TODAY"] = today
    home = tempfile.mkdtemp(prefix="chatter-bench-answers-home-")
    os.environ["CHATTER_HOME"] = home
    os.environ.pop("CHATTER_DATABASE", None)
    import chatter
    import chatter.settings

    chatter.settings.get_settings.cache_clear()
    llm = "on" if os.environ.get("OPENAI_API_KEY") else "off"

    golds = gold_results(db, items)
    started = time.perf_counter()
    outcomes = [score_one(chatter, db, item, gold) for item, gold in zip(items, golds, strict=True)]
    seconds = time.perf_counter() - started
    shutil.rmtree(home, ignore_errors=True)

    by_cat: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_cat[o.item.category].append(o)
    correct = sum(o.correct for o in outcomes)
    print(
        f"answer accuracy on {args.set} ({len(items)} questions, seed {args.seed}, "
        f"today {today}, data {generator}, LLM {llm}, {seconds:.1f} s)"
    )
    print(
        f"  overall              {correct:>3}/{len(outcomes):<3} = {correct / max(len(outcomes), 1):.1%}"
    )
    for cat in sorted(by_cat):
        group = by_cat[cat]
        ok = sum(o.correct for o in group)
        print(f"  {cat:<20} {ok:>3}/{len(group):<3} = {ok / len(group):.1%}")
    clar = [o for o in outcomes if o.item.expect == "clarify"]
    if clar:
        ok = sum(o.correct for o in clar)
        print(f"  clarify recall       {ok:>3}/{len(clar):<3} = {ok / len(clar):.1%}")
    answerable = [o for o in outcomes if o.item.gold_sql]
    if answerable:
        asked = sum(o.reason == "asked back" for o in answerable)
        errors = sum(o.reason.startswith("exception") for o in answerable)
        gold_bad = sum(o.reason.startswith("GOLD SQL FAILED") for o in outcomes)
        print(
            f"  asked back when an answer was expected: {asked}/{len(answerable)}; "
            f"exceptions: {errors}" + (f"; BROKEN GOLD SQL: {gold_bad}" if gold_bad else "")
        )

    if args.show_misses:
        for o in outcomes:
            if o.correct:
                continue
            print(f"\n- MISS [{o.item.category}] {o.item.question!r}")
            print(f"    why: {o.reason}; workflow: {o.workflow}")
            if o.item.expect == "clarify":
                print("    expected: ask back")
            else:
                print(f"    gold ({len(o.gold_rows)} rows{', ordered' if o.item.ordered else ''}):")
                print(_fmt_rows(o.gold_cols, o.gold_rows))
            print(f"    answer ({len(o.answer_rows)} rows):")
            print(_fmt_rows(o.answer_cols, o.answer_rows))
            if o.interpretation:
                interp = o.interpretation
                text = interp.get("text") if isinstance(interp, dict) else interp
                print(f"    interpretation: {text}")
                if isinstance(interp, dict) and interp.get("unused_words"):
                    print(f"    unused words: {interp.get('unused_words')}")
            elif o.text:
                print(f"    text: {o.text[:200]}")
    return 0


if __name__ == "__main__":
    try:
        main()
    except SystemExit as exc:  # bad input still says why, but the bench exits 0
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    sys.exit(0)
