"""Condition text to a syntax tree: a recursive-descent parser over the tokens of
``chatter.rules.text_tokens`` (the grammar is in ``chatter.rules.conditions``). Every error names
the offending token and its column, and draws a caret under it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

from chatter.errors import ConditionError, suggest
from chatter.rules.comparisons import Between, Comparison, Exists, Membership
from chatter.rules.nodes import And, Condition, Not, Or
from chatter.rules.text_tokens import Token, fail_at, tokenize
from chatter.rules.values import (
    INTEGER,
    MAX_DEPTH,
    MAX_LENGTH,
    NUMBER,
    OPERATORS,
    RESERVED,
    SYMBOL_OPERATORS,
    Bound,
    Scalar,
    check_path,
    check_scalar,
)

#: The operators, for error messages.
OPERATOR_HELP = "Operators: " + ", ".join(OPERATORS) + " (or ==, !=, <, <=, >, >=)."


class _Parser:
    """Recursive descent over the tokens; ``nesting`` counts open parentheses and nots."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.nesting = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def fail(
        self, token: Token, problem: str, hint: str = "", suggestions: Iterable[str] = ()
    ) -> NoReturn:
        fail_at(self.text, token.column, problem, hint, suggestions)

    def build(self, token: Token, make: type[Condition], *args: object) -> Condition:
        """``make(*args)``, with a node's own complaint pointed at ``token``."""
        try:
            return make(*args)
        except ConditionError as err:
            self.fail(token, err.message.rstrip("."))

    def enter(self, token: Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            self.fail(token, f"Condition is nested more than {MAX_DEPTH} levels deep")

    def parse(self) -> Condition:
        condition = self.or_expr()
        token = self.peek()
        if token.is_symbol(")"):
            self.fail(token, "Unmatched ')'")
        if token.kind != "end":
            self.fail(token, f"Expected 'and', 'or' or the end, found {token.describe()}")
        return condition

    def or_expr(self) -> Condition:
        first = self.peek()
        operands = [self.and_expr()]
        while self.peek().is_word("or"):
            self.advance()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else self.build(first, Or, tuple(operands))

    def and_expr(self) -> Condition:
        first = self.peek()
        operands = [self.not_expr()]
        while self.peek().is_word("and"):
            self.advance()
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else self.build(first, And, tuple(operands))

    def not_expr(self) -> Condition:
        token = self.peek()
        if not token.is_word("not"):
            return self.primary()
        self.advance()
        self.enter(token)
        operand = self.not_expr()
        self.nesting -= 1
        return self.build(token, Not, operand)

    def primary(self) -> Condition:
        token = self.peek()
        if not token.is_symbol("("):
            return self.comparison()
        self.advance()
        self.enter(token)
        condition = self.or_expr()
        closing = self.advance()
        if not closing.is_symbol(")"):
            self.fail(
                closing,
                f"Expected ')' to close the '(' at column {token.column}, "
                f"found {closing.describe()}",
            )
        self.nesting -= 1
        return condition

    def comparison(self) -> Condition:
        token = self.advance()
        if token.kind != "word":
            self.fail(token, f"Expected a path such as user.role, found {token.describe()}")
        try:
            path = check_path(token.text)
        except ConditionError as err:
            self.fail(token, err.message.rstrip("."))
        op_token = self.advance()
        op = self.operator(op_token, path)
        if op == "exists":
            return self.build(token, Exists, path)
        if op in ("in", "not_in"):
            start = self.peek()
            return self.build(start, Membership, path, op, self.values(op, path))
        if op == "between":
            low = self.bound()
            if not (word := self.advance()).is_word("and"):
                self.fail(
                    word,
                    "Expected 'and' between the bounds of 'between'",
                    f" Write e.g. {path} between 0.7 and 1.0, with * for no bound.",
                )
            high = self.bound()
            return self.build(op_token, Between, path, low, high)
        value_token = self.peek()
        return self.build(value_token, Comparison, path, op, self.value(op))

    def operator(self, token: Token, path: str) -> str:
        if token.kind == "symbol" and token.text in SYMBOL_OPERATORS:
            return SYMBOL_OPERATORS[token.text]
        if token.is_word(*OPERATORS):
            return token.text.lower()
        if token.is_word("not") and self.peek().is_word("in"):
            self.advance()
            return "not_in"
        if token.kind == "word" and token.text.lower() not in RESERVED:
            self.fail(
                token,
                f"Unknown operator {token.text!r}",
                did_you_mean(suggest(token.text, OPERATORS)) + " " + OPERATOR_HELP,
                suggest(token.text, OPERATORS),
            )
        hint = (
            f" Write '{path} exists' to test that it is set." if token.is_word("and", "or") else ""
        )
        self.fail(token, f"Expected an operator after {path!r}, found {token.describe()}", hint)

    def value(self, op: str) -> Scalar:
        token = self.advance()
        if token.kind == "string":
            return token.text
        if token.kind == "word":
            return self.word_value(token)
        if token.is_symbol("["):
            self.fail(token, f"'{op}' takes one value", " Use 'in' for a list.")
        self.fail(token, f"Expected a value after '{op}', found {token.describe()}")

    def word_value(self, token: Token) -> Scalar:
        word = token.text
        literal = {"true": True, "false": False, "null": None}
        if word.lower() in literal:
            return literal[word.lower()]
        if word.lower() in RESERVED:
            self.fail(
                token,
                f"{word!r} is a reserved word, not a value",
                f' Quote it ("{word}") to use it as text.',
            )
        if NUMBER.fullmatch(word) is None:
            return word
        number = int(word) if INTEGER.fullmatch(word) else float(word)
        try:
            return check_scalar(number, f"Number {word}")
        except ConditionError as err:
            self.fail(token, err.message.rstrip("."))

    def values(self, op: str, path: str) -> tuple[Scalar, ...]:
        opening = self.advance()
        if not opening.is_symbol("["):
            self.fail(
                opening,
                f"Expected '[' after '{op}', found {opening.describe()}",
                f" Write e.g. {path} {op} [a, b].",
            )
        if self.peek().is_symbol("]"):
            self.fail(opening, f"'{op}' needs at least one value")
        values = [self.value(op)]
        while (token := self.advance()).is_symbol(","):
            values.append(self.value(op))
        if not token.is_symbol("]"):
            self.fail(token, f"Expected ',' or ']' in the list, found {token.describe()}")
        return tuple(values)

    def bound(self) -> Bound:
        token = self.peek()
        if token.is_symbol("*"):
            self.advance()
            return None
        value = self.value("between")
        if value is None or isinstance(value, bool):
            self.fail(token, "Bounds of 'between' are numbers or text", " Use * for no bound.")
        return value


def did_you_mean(suggestions: list[str]) -> str:
    """`` Did you mean 'a' or 'b'?`` for the suggestions, or nothing without any."""
    return f" Did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""


def parse_text(text: str) -> Condition:
    """The tree of one condition written as text; ConditionError points at what is wrong."""
    if len(text) > MAX_LENGTH:
        raise ConditionError(
            f"Condition is {len(text)} characters long; the limit is {MAX_LENGTH}."
        )
    if not text.strip():
        raise ConditionError("Condition is empty; write e.g. user_tier in [premium, enterprise].")
    return _Parser(text).parse()
