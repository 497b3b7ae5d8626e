"""The routing condition language (text and structured forms) and rule sets built on it."""

from __future__ import annotations

import doctest
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import chatter.rules.conditions
import chatter.rules.ruleset
from chatter.errors import BadInputError, ConditionError
from chatter.rules.conditions import (
    MAX_DEPTH,
    MAX_LENGTH,
    And,
    Between,
    Comparison,
    Condition,
    Exists,
    Membership,
    Not,
    Or,
    parse_condition,
)
from chatter.rules.ruleset import Rule, RuleSet

SEED = "user_tier in [premium, enterprise] and query_complexity between 0.7 and 1.0"


@dataclass
class User:
    role: str
    plan: str | None = None
    tags: list[str] = field(default_factory=list)
    _secret: str = "hidden"

    def shout(self) -> str:
        return self.role.upper()


CONTEXT: dict[str, Any] = {
    "user_tier": "premium",
    "query_complexity": 0.8,
    "n": 5,
    "x": 2.5,
    "name": "bob",
    "flag": True,
    "nothing": None,
    "user": {"role": "admin", "tier": "gold", "address": {"country": "DE"}},
    "items": [{"sku": "a1"}, {"sku": "b2"}],
    "who": User(role="analyst", tags=["x"]),
    "date": "2024-03-01",
}


def holds(text: str, context: object = CONTEXT) -> bool:
    return parse_condition(text).evaluate(context)


# ---- parsing ----------------------------------------------------------------------------------

A, B, C = Comparison("a", "eq", 1), Comparison("b", "eq", 2), Comparison("c", "eq", 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a eq 1", A),
        ("a == 1", A),
        ("a = 1", A),
        ("a==1", A),
        ("  a   EQ   1  ", A),
        ("x ne 'y'", Comparison("x", "ne", "y")),
        ("x != y", Comparison("x", "ne", "y")),
        ("x lt 3", Comparison("x", "lt", 3)),
        ("x < 3", Comparison("x", "lt", 3)),
        ("x le -3.5", Comparison("x", "le", -3.5)),
        ("x <= 1e3", Comparison("x", "le", 1000.0)),
        ("x gt .5", Comparison("x", "gt", 0.5)),
        ("x > +2", Comparison("x", "gt", 2)),
        ("x ge 2024-01-01", Comparison("x", "ge", "2024-01-01")),
        ("x >= 'b'", Comparison("x", "ge", "b")),
        ("x eq true", Comparison("x", "eq", True)),
        ("x eq FALSE", Comparison("x", "eq", False)),
        ("x eq null", Comparison("x", "eq", None)),
        ('x eq "two words"', Comparison("x", "eq", "two words")),
        (r'x eq "say \"hi\" \\o/"', Comparison("x", "eq", 'say "hi" \\o/')),
        ("x eq 'and'", Comparison("x", "eq", "and")),
        ('x eq "1"', Comparison("x", "eq", "1")),
        ("x in [a, 'b c', 3, null, true]", Membership("x", "in", ("a", "b c", 3, None, True))),
        ("x not_in [a]", Membership("x", "not_in", ("a",))),
        ("x NOT IN [a]", Membership("x", "not_in", ("a",))),
        ("x between 0.7 and 1.0", Between("x", 0.7, 1.0)),
        ("x between 0.7 and *", Between("x", 0.7, None)),
        ("x between * and 1", Between("x", None, 1)),
        ("d between 2024-01-01 and '2024-12-31'", Between("d", "2024-01-01", "2024-12-31")),
        ("user.address.country exists", Exists("user.address.country")),
        ("items.0.sku eq a1", Comparison("items.0.sku", "eq", "a1")),
        ("a eq 1 and b eq 2 and c eq 3", And((A, B, C))),
        ("a eq 1 or b eq 2 or c eq 3", Or((A, B, C))),
        ("a eq 1 or b eq 2 and c eq 3", Or((A, And((B, C))))),
        ("a eq 1 and b eq 2 or c eq 3", Or((And((A, B)), C))),
        ("(a eq 1 or b eq 2) and c eq 3", And((Or((A, B)), C))),
        ("not a eq 1 and b eq 2", And((Not(A), B))),
        ("not (a eq 1 and b eq 2)", Not(And((A, B)))),
        ("not not a eq 1", Not(Not(A))),
        ("a eq 1 and (b eq 2 and c eq 3)", And((A, And((B, C))))),
        ("((a eq 1))", A),
        ("a eq 1 AND b eq 2 Or NOT c eq 3", Or((And((A, B)), Not(C)))),
    ],
)
def test_text_parses_to_the_tree(text: str, expected: Condition) -> None:
    parsed = parse_condition(text)
    assert parsed == expected
    assert repr(parsed) == repr(expected)  # also the same value types, 1 vs 1.0 vs True


@pytest.mark.parametrize(
    ("text", "obj"),
    [
        (
            SEED,
            {
                "all": [
                    {"path": "user_tier", "op": "in", "value": ["premium", "enterprise"]},
                    {"path": "query_complexity", "op": "between", "value": [0.7, 1.0]},
                ]
            },
        ),
        (
            'user.role eq "admin" or not (plan exists)',
            {
                "any": [
                    {"path": "user.role", "op": "eq", "value": "admin"},
                    {"not": {"path": "plan", "op": "exists"}},
                ]
            },
        ),
        ("x between * and 3", {"path": "x", "op": "between", "value": [None, 3]}),
        ("x ne null", {"path": "x", "op": "!=", "value": None}),
        ("x not_in [1]", {"path": "x", "op": "not in", "value": [1]}),
        ("x exists", {"path": "x", "op": "exists", "value": None}),
        ("a eq 1", {"all": [{"path": "a", "op": "eq", "value": 1}]}),  # one item: the item
        ("a eq 1 and (b eq 2)", {"all": ["a eq 1", "b eq 2"]}),  # items may be text
    ],
)
def test_text_and_structured_forms_are_equal(text: str, obj: dict[str, Any]) -> None:
    assert parse_condition(text) == parse_condition(obj)
    assert parse_condition(json.dumps(obj)) == parse_condition(text)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a == 1", "a eq 1"),
        ("x in ['a', \"b c\", 3.0]", 'x in [a, "b c", 3.0]'),
        ("x not in [a]", "x not_in [a]"),
        ("x between .7 AND *", "x between 0.7 and *"),
        ("x eq 'true'", 'x eq "true"'),
        ("x eq '42'", 'x eq "42"'),
        ("x eq ''", 'x eq ""'),
        ("(a eq 1 and b eq 2) or c eq 3", "a eq 1 and b eq 2 or c eq 3"),
        ("a eq 1 and (b eq 2 or c eq 3)", "a eq 1 and (b eq 2 or c eq 3)"),
        ("a eq 1 or (b eq 2 or c eq 3)", "a eq 1 or (b eq 2 or c eq 3)"),
        ("not (a eq 1 or b eq 2)", "not (a eq 1 or b eq 2)"),
        ("NOT ((a eq 1))", "not a eq 1"),
    ],
)
def test_canonical_text_round_trips(text: str, canonical: str) -> None:
    condition = parse_condition(text)
    assert str(condition) == canonical
    assert parse_condition(canonical) == condition
    assert parse_condition(condition.to_dict()) == condition


def test_builders_combine_conditions() -> None:
    built = (A & B) | ~C
    assert built == Or((And((A, B)), Not(C)))
    assert parse_condition(A) is A


def test_equal_trees_keep_value_types_apart() -> None:
    assert Comparison("a", "eq", 1) == Comparison("a", "eq", 1.0)  # evaluate identically
    assert Comparison("a", "eq", 1) != Comparison("a", "eq", True)
    assert len({Comparison("a", "eq", 1), Comparison("a", "eq", True)}) == 2


# ---- evaluation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the seed example
        (SEED, True),
        # every operator
        ("n eq 5", True),
        ("n eq 5.0", True),
        ("n eq 6", False),
        ("n ne 6", True),
        ("n ne 5", False),
        ("n lt 6", True),
        ("n lt 5", False),
        ("n le 5", True),
        ("n gt 4.99", True),
        ("n gt 5", False),
        ("n ge 5", True),
        ("name lt carl", True),
        ("name ge bob", True),
        ("n in [1, 5]", True),
        ("n in [1, 2]", False),
        ("n not_in [1, 2]", True),
        ("n not_in [5]", False),
        ("x between 2.5 and 2.5", True),
        ("x between 1 and 2", False),
        ("x between 2 and *", True),
        ("x between * and 2", False),
        ("x between * and 3", True),
        ("date between 2024-01-01 and 2024-06-30", True),
        ("date between 2024-04-01 and *", False),
        ("name exists", True),
        ("flag eq true", True),
        ("flag ne false", True),
        # precedence and parentheses
        ("n eq 1 and n eq 2 or n eq 5", True),
        ("n eq 5 or n eq 1 and n eq 2", True),
        ("(n eq 5 or n eq 1) and n eq 2", False),
        ("not n eq 5 or name eq bob", True),
        ("not (n eq 5 or name eq bob)", False),
        ("not n eq 5 and name eq bob", False),
        # dotted paths: mappings, list indexes, object attributes
        ("user.role eq admin", True),
        ("user.address.country in [DE, FR]", True),
        ("items.1.sku eq b2", True),
        ("items.2.sku exists", False),
        ("items.x exists", False),
        ("who.role eq analyst", True),
        ("who.tags.0 eq x", True),
        ("who._secret exists", False),  # private attributes are not readable
        ("who.shout exists", False),  # nor methods
        ("name.upper exists", False),  # nor attributes of plain values
        ("n.real exists", False),
        # missing paths and nulls read alike
        ("missing eq 1", False),
        ("missing ne 1", True),
        ("missing lt 1", False),
        ("missing ge 1", False),
        ("missing in [1, 2]", False),
        ("missing not_in [1, 2]", True),
        ("missing between * and 1", False),
        ("missing exists", False),
        ("missing eq null", True),
        ("missing in [a, null]", True),
        ("nothing exists", False),
        ("nothing eq null", True),
        ("user.nope.deeper eq 1", False),
        ("who.plan exists", False),
        # mismatched types are unequal and unordered, never an error
        ("name lt 3", False),
        ("name ge 3", False),
        ("n lt abc", False),
        ("n eq '5'", False),
        ("n ne '5'", True),
        ("flag eq 1", False),
        ("flag gt 0", False),
        ("user lt 1", False),
        ("items eq a1", False),
        ("items in [a1]", False),
        ("name between 1 and 9", False),
        ("x between a and z", False),
    ],
)
def test_evaluation(text: str, expected: bool) -> None:
    assert holds(text) is expected


def test_context_may_be_an_object() -> None:
    assert holds("role eq analyst and plan exists", User(role="analyst", plan="pro"))
    assert not holds("role eq analyst and plan exists", User(role="analyst"))


def test_evaluation_never_raises_on_odd_data() -> None:
    odd = {"n": math.nan, "s": b"bytes", "l": [[1]], "o": object(), "d": {1: "int key"}}
    for path in ("n", "s", "l", "l.0", "l.0.0", "o", "o.x", "d", "d.1"):
        for op in ("eq 1", "lt 1", "ge a", "in [1, a]", "between 0 and 2", "exists"):
            parse_condition(f"{path} {op}").evaluate(odd)
    assert not holds("n eq 1", odd) and not holds("n ge 0", odd) and not holds("n lt 0", odd)
    assert holds("l.0.0 eq 1", odd)


# ---- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ("a betwen 1 and 2", "Unknown operator 'betwen'", 3),
        ("a eq", "Expected a value after 'eq'", 5),
        ("(a eq 1", "Expected ')' to close the '(' at column 1", 8),
        ("a eq 1)", "Unmatched ')'", 7),
        ("a eq 1 b eq 2", "Expected 'and', 'or' or the end, found 'b'", 8),
        ("a in []", "'in' needs at least one value", 6),
        ("a in x", "Expected '[' after 'in'", 6),
        ("a in [1 2]", "Expected ',' or ']'", 9),
        ("a eq [1, 2]", "'eq' takes one value", 6),
        ("a between 5 and 1", "low bound 5 of 'between' is above the high bound 1", 3),
        ("a between * and *", "at least one bound", 3),
        ("a between 1 or 2", "Expected 'and' between the bounds", 13),
        ("a between a and 3", "both be numbers or both be text", 3),
        ("a between true and 3", "Bounds of 'between' are numbers or text", 11),
        ("a lt true", "'lt' compares numbers or text, not true", 6),
        ("a ge null", "'ge' compares numbers or text, not null", 6),
        ("in eq 1", "'in' is a reserved word and cannot be a path", 1),
        ("a..b eq 1", "Invalid path 'a..b'", 1),
        ("'a' eq 1", "Expected a path", 1),
        ("a eq 'x", "Unterminated string", 6),
        ("a eq 1 && b eq 2", "Unexpected character '&'", 8),
        ("a eq or", "'or' is a reserved word, not a value", 6),
        ("a eq 1e999", "finite number", 6),
        ("plan and a eq 1", "Write 'plan exists'", 6),
        ("a eq 1 and", "Expected a path", 11),
        ("not", "Expected a path", 4),
        ("a (", "Expected an operator after 'a'", 3),
    ],
)
def test_errors_name_the_bad_part_and_its_column(text: str, fragment: str, column: int) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    err = caught.value
    assert fragment in err.message
    assert err.column == column
    where = "at the end" if column > len(text) else f"column {column}"
    assert where in err.message
    line, caret = err.message.splitlines()[-2:]
    assert line.strip() == text.strip()
    assert caret.index("^") - line.index(text.strip()[0]) == column - 1 - (
        len(text) - len(text.lstrip())
    )
    assert err.code == "invalid_condition" and isinstance(err, BadInputError)


@pytest.mark.parametrize(
    ("op", "suggestion"),
    [("betwen", "between"), ("exist", "exists"), ("notin", "not_in"), ("eqq", "eq")],
)
def test_unknown_operators_suggest_the_close_one(op: str, suggestion: str) -> None:
    with pytest.raises(ConditionError, match=f"Did you mean '{suggestion}'") as caught:
        parse_condition(f"a {op} 1")
    assert suggestion in caught.value.suggestions
    with pytest.raises(ConditionError, match=f"Did you mean '{suggestion}'"):
        parse_condition({"all": [{"path": "a", "op": "eq", "value": 1}, {"path": "b", "op": op}]})


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ({"all": [{"path": "a", "op": "betwen", "value": [1, 2]}]}, "at all[0].op"),
        ({"any": [{"path": "a", "op": "eq"}]}, "'eq' needs a 'value' (at any[0])"),
        (
            {"not": {"path": "a b", "op": "exists"}},
            "Invalid path 'a b', not names of letters, digits and _ joined by dots like user.role (at not.path)",
        ),
        ({"all": []}, "'all' needs at least one condition (at all)"),
        ({"all": "a eq 1"}, "'all' takes a list of conditions"),
        ({"al": []}, "Unknown key 'al' (at the top level). Did you mean 'all'?"),
        ({"all": [], "path": "a"}, "one of 'all', 'any', 'not', or a comparison"),
        ({"op": "eq", "value": 1}, "A comparison needs a 'path'"),
        ({"path": "a", "value": 1}, "A comparison needs an 'op' (at the top level)"),
        (
            {"path": "a", "op": "in", "value": "x"},
            "'in' takes a list of values, not str (at value)",
        ),
        ({"path": "a", "op": "between", "value": [1]}, "'between' takes [low, high]"),
        ({"path": "a", "op": "exists", "value": 1}, "'exists' takes no value"),
        ({"path": "a", "op": "eq", "value": {"x": 1}}, "must be text, a number"),
        ({"path": "a", "op": "eq", "value": math.inf}, "finite number"),
        ({"all": ["a eq 1", "b betwen 1 and 2"]}, "In the condition text at all[1]: Unknown"),
        (
            {"path": "a", "op": "lt", "value": False},
            "'lt' compares numbers or text, not false (at value)",
        ),
        ([1, 2], "A condition is text or an object, not list"),
    ],
)
def test_structured_errors_name_the_location(obj: Any, fragment: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_condition(obj)
    assert fragment in caught.value.message


def test_limits_are_clear_errors_not_recursion_errors() -> None:
    with pytest.raises(ConditionError, match=f"the limit is {MAX_LENGTH}"):
        parse_condition("a eq 1 or " * 300 + "a eq 1")
    with pytest.raises(ConditionError, match="nested more than 32 levels"):
        parse_condition("(" * 200 + "a eq 1" + ")" * 200)
    with pytest.raises(ConditionError, match="nested more than 32 levels"):
        parse_condition("not " * 400 + "a eq 1")
    nested: dict[str, Any] = {"path": "a", "op": "exists"}
    for _ in range(5000):
        nested = {"not": nested}
    with pytest.raises(ConditionError, match="nested more than 32 levels"):
        parse_condition(nested)
    cyclic: dict[str, Any] = {"all": []}
    cyclic["all"].append(cyclic)
    with pytest.raises(ConditionError, match="nested more than 32 levels"):
        parse_condition(cyclic)
    for levels in (40, 1200, 2400):
        with pytest.raises(ConditionError, match="nested"):
            parse_condition('{"not":' * levels + '{"path": "a", "op": "exists"}' + "}" * levels)
    deep: Condition = A
    for _ in range(MAX_DEPTH - 1):
        deep = Not(deep)
    assert parse_condition(str(deep)) == deep
    with pytest.raises(ConditionError, match="nested more than"):
        Not(deep)
    with pytest.raises(ConditionError, match="empty"):
        parse_condition("   ")


def test_pydantic_fields_accept_text_or_objects() -> None:
    class Holder(BaseModel):
        when: Condition

    held = Holder.model_validate({"when": {"all": ["a eq 1", "b eq 2"]}})
    assert held.when == And((A, B))
    assert held.model_dump() == {"when": "a eq 1 and b eq 2"}
    assert Holder.model_validate_json(held.model_dump_json()) == held
    with pytest.raises(ValidationError, match="Unknown operator 'betwen'"):
        Holder(when="a betwen 1 and 2")  # type: ignore[arg-type]
    assert "anyOf" in Holder.model_json_schema()["properties"]["when"]


def test_module_examples_run() -> None:
    for module in (chatter.rules.conditions, chatter.rules.ruleset):
        assert doctest.testmod(module).failed == 0


# ---- properties -------------------------------------------------------------------------------

PATHS = ["a", "b", "score", "user.role", "user.tier", "items.0", "who.role", "missing.x"]
TEXTS = ["premium", "free", "", "two words", "and", "NULL", "42", "-1e3", 'q"uo\\te', "ünï", "*"]
numbers_ = (
    st.integers(-5, 5)
    | st.floats(-10, 10)
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
)
texts = st.sampled_from(TEXTS) | st.text(max_size=6)
scalars = st.none() | st.booleans() | numbers_ | texts
paths = st.sampled_from(PATHS) | st.from_regex(r"\w{1,4}(\.\w{1,3}){0,2}", fullmatch=True).filter(
    lambda p: (
        p.lower() not in {"and", "or", "not", "in", "eq", "ne", "lt", "le", "gt", "ge"}
        and p.lower() not in {"true", "false", "null", "not_in", "between", "exists"}
    )
)


@st.composite
def betweens(draw: st.DrawFn) -> Between:
    values = draw(st.sampled_from([numbers_, texts]))
    bounds: list[Any] = sorted(draw(st.lists(values, min_size=2, max_size=2)))
    open_side = draw(st.sampled_from(["none", "low", "high"]))
    low = None if open_side == "low" else bounds[0]
    high = None if open_side == "high" else bounds[1]
    return Between(draw(paths), low, high)


leaves = st.one_of(
    st.builds(Comparison, paths, st.sampled_from(["eq", "ne"]), scalars),
    st.builds(Comparison, paths, st.sampled_from(["lt", "le", "gt", "ge"]), numbers_ | texts),
    st.builds(
        Membership,
        paths,
        st.sampled_from(["in", "not_in"]),
        st.lists(scalars, min_size=1, max_size=4).map(tuple),
    ),
    betweens(),
    st.builds(Exists, paths),
)


def _joined(children: st.SearchStrategy[Condition]) -> st.SearchStrategy[Condition]:
    shallow = children.filter(lambda c: c.depth < 12)
    operands = st.lists(shallow, min_size=2, max_size=3).map(tuple)
    return st.builds(Not, shallow) | st.builds(And, operands) | st.builds(Or, operands)


conditions = st.recursive(leaves, _joined, max_leaves=8)
values = scalars | st.just(math.nan) | st.lists(scalars, max_size=2) | st.builds(object)
contexts = st.fixed_dictionaries(
    {},
    optional={
        "a": values,
        "b": values,
        "score": values,
        "user": st.fixed_dictionaries({}, optional={"role": values, "tier": values}) | values,
        "items": st.lists(values, max_size=2),
        "who": st.builds(User, role=texts),
    },
)


@given(conditions, st.lists(contexts, min_size=1, max_size=3))
def test_rendered_text_and_objects_parse_back_to_the_same_tree(
    condition: Condition, samples: list[dict[str, Any]]
) -> None:
    text = str(condition)
    parsed = parse_condition(text)
    assert parsed == condition
    assert str(parsed) == text
    from_dict = parse_condition(json.loads(json.dumps(condition.to_dict())))
    assert from_dict == condition
    for context in samples:
        outcome = condition.evaluate(context)
        assert isinstance(outcome, bool)
        assert parsed.evaluate(context) is outcome is from_dict.evaluate(context)


_SOUP = [
    "a", "user.role", "eq", "==", "!=", "<", ">=", "in", "not_in", "not", "between", "exists",
    "and", "or", "(", ")", "[", "]", ",", "*", "1", "-2.5", "1e999", "'x'", '"y', "true", "null",
    "{", "}", "&", "\\", "..", "\n", "é", "9" * 30,
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = str(draw(conditions))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        text = text[:at] + draw(st.text(max_size=2)) + text[at + cut :]
    return text


garbage = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(_SOUP), max_size=40).map(" ".join),
    mutated(),
    st.integers(0, 3000).map(lambda n: "(" * n + "a eq 1" + ")" * n),
    st.integers(0, 1000).map(lambda n: "not " * n + "a exists"),
    st.integers(1900, 2100).map(lambda n: ("a eq 1 or " * 300)[:n]),
    st.text(max_size=100).map(lambda t: "{" + t),
)


@given(garbage)
def test_any_text_parses_or_raises_a_condition_error(text: str) -> None:
    try:
        condition = parse_condition(text)
    except ConditionError as err:
        assert err.message
        return
    assert parse_condition(str(condition)) == condition


@given(st.recursive(st.none() | st.booleans() | scalars | st.text(max_size=5), lambda inner: (
    st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["all", "any", "not", "path", "op", "value", "x"]), inner, max_size=3)
), max_leaves=12))  # fmt: skip
def test_any_object_parses_or_raises_a_condition_error(obj: Any) -> None:
    try:
        condition = parse_condition(obj)
    except ConditionError:
        return
    assert parse_condition(condition.to_dict()) == condition


@given(conditions, conditions, contexts)
def test_not_negates_and_de_morgan_holds(p: Condition, q: Condition, context: Any) -> None:
    assert Not(p).evaluate(context) is not p.evaluate(context)
    assert parse_condition(f"not ({p})").evaluate(context) is not p.evaluate(context)
    assert Not(And((p, q))).evaluate(context) is Or((Not(p), Not(q))).evaluate(context)
    assert Not(Or((p, q))).evaluate(context) is And((Not(p), Not(q))).evaluate(context)


@given(paths, scalars, st.lists(scalars, min_size=1, max_size=3), contexts)
def test_ne_and_not_in_are_negations(path: str, value: Any, items: list[Any], context: Any) -> None:
    eq, ne = Comparison(path, "eq", value), Comparison(path, "ne", value)
    assert ne.evaluate(context) is not eq.evaluate(context)
    member, outsider = (
        Membership(path, "in", tuple(items)),
        Membership(path, "not_in", tuple(items)),
    )
    assert outsider.evaluate(context) is not member.evaluate(context)


@given(betweens(), contexts)
def test_between_is_ge_low_and_le_high(between: Between, context: Any) -> None:
    parts = []
    if between.low is not None:
        parts.append(Comparison(between.path, "ge", between.low))
    if between.high is not None:
        parts.append(Comparison(between.path, "le", between.high))
    assert between.evaluate(context) is all(c.evaluate(context) for c in parts)


# ---- rules ------------------------------------------------------------------------------------

RULES_YAML = f"""
rules:
  - name: premium_deep_dive
    when: {SEED}
    then:
      template: conversion_deep_dive
      customizations: {{alpha: 0.01}}
  - name: admins
    when:
      any:
        - {{path: user.role, op: eq, value: admin}}
        - not: {{path: plan, op: exists}}
    then: {{composite: {{steps: [a, b]}}}}
  - name: also_premium
    when: user_tier eq premium
    then: {{template: never_reached_first}}
default:
  template: quick_answer
"""


@pytest.mark.parametrize(
    ("context", "name", "then_key"),
    [
        ({"user_tier": "premium", "query_complexity": 0.9, "plan": "p"}, "premium_deep_dive", "template"),
        ({"user_tier": "premium", "query_complexity": 0.2, "plan": "p"}, "also_premium", "template"),
        ({"user_tier": "free", "user": {"role": "admin"}, "plan": "p"}, "admins", "composite"),
        ({"user_tier": "free"}, "admins", "composite"),  # no plan: not (plan exists)
        ({"user_tier": "free", "plan": "p"}, "default", "template"),
    ],
)  # fmt: skip
def test_first_matching_rule_wins_else_default(
    context: dict[str, Any], name: str, then_key: str
) -> None:
    chosen, then = RuleSet.from_yaml_text(RULES_YAML).choose(context)
    assert chosen == name
    assert then_key in then


def test_rule_sets_load_from_yaml_and_json_files(tmp_path: Path) -> None:
    rules = RuleSet.from_yaml_text(RULES_YAML)
    assert rules.rules[0].when == parse_condition(SEED)
    assert rules.rules[0].then["customizations"] == {"alpha": 0.01}
    yaml_file = tmp_path / "rules.yaml"
    yaml_file.write_text(RULES_YAML, encoding="utf-8")
    json_file = tmp_path / "rules.json"
    json_file.write_text(rules.model_dump_json(), encoding="utf-8")
    assert RuleSet.from_path(yaml_file) == rules == RuleSet.from_path(json_file)
    name, then = rules.choose({})
    then["template"] = "changed"
    assert rules.choose({}) == (name, {"composite": {"steps": ["a", "b"]}})
    assert rules.default == {"template": "quick_answer"}


def _rule_yaml(when: str = "a eq 1", then: str = "{template: t}", name: str = "r1") -> str:
    return (
        f"rules:\n  - name: {name}\n    when: {when}\n    then: {then}\ndefault: {{template: d}}\n"
    )


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (_rule_yaml(when="tier betwen 1 and 2"), ["rule 'r1' (rules[0]) when:", "'between'", "^"]),
        (_rule_yaml(when="{path: a, op: eq}"), ["rule 'r1' (rules[0]) when:", "needs a 'value'"]),
        (_rule_yaml(when="true"), ["rule 'r1' (rules[0]) when:", "text or an object"]),
        (_rule_yaml(then="{}"), ["rule 'r1' (rules[0]) then:", "at least 1 item"]),
        (_rule_yaml(name="default"), ["rule 'default' (rules[0]) name:", "pick another name"]),
        (_rule_yaml(name="'two words'"), ["rule 'two words' (rules[0]) name:", "pattern"]),
        (_rule_yaml() + "extra: 1\n", ["extra:", "not permitted"]),
        ("rules: []\n", ["default: Field required"]),
        ("rules: []\ndefault: {}\n", ["default:", "at least 1 item"]),
        ("default: {template: d}\n", ["rules: Field required"]),
        ("rules: [\n", ["is not valid YAML"]),
        ("- a\n", ["must hold a mapping"]),
        (
            "rules:\n  - {name: a, when: x exists, then: {t: 1}}\n"
            "  - {name: a, when: y exists, then: {t: 2}}\ndefault: {t: 0}\n",
            ["rule names must be unique; repeated: a"],
        ),
        (
            "rules:\n  - {name: ok, when: x exists}\ndefault: {t: 0}\n",
            ["rule 'ok' (rules[0]) then"],
        ),
    ],
)
def test_rule_errors_name_the_rule_and_the_part(text: str, fragments: list[str]) -> None:
    with pytest.raises(ConditionError) as caught:
        RuleSet.from_yaml_text(text, source="routing.yaml")
    assert caught.value.message.startswith("routing.yaml")
    for fragment in fragments:
        assert fragment in caught.value.message


def test_rule_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ConditionError, match="Cannot read rules file"):
        RuleSet.from_path(tmp_path / "absent.yaml")
    broken = tmp_path / "rules.json"
    broken.write_text("{'not': json}", encoding="utf-8")
    with pytest.raises(ConditionError, match="is not valid JSON"):
        RuleSet.from_path(broken)


def test_rules_built_in_code() -> None:
    rule = Rule(name="r", when="a eq 1", then={"template": "t"})  # type: ignore[arg-type]
    assert RuleSet(rules=(rule,), default={"template": "d"}).choose({"a": 1}) == (
        "r",
        {"template": "t"},
    )
    with pytest.raises(ValidationError):
        RuleSet(rules=(rule,))  # type: ignore[call-arg]
