"""Condition text to a syntax tree: a tokenizer and a recursive-descent parser (the grammar is in
``chatter.rules.conditions``). Every error names the offending token and its column, and draws
a caret under it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NoReturn

from chatter.errors import ConditionError, suggest
from chatter.rules.nodes import (
    And,
    Between,
    Comparison,
    Condition,
    Exists,
    Membership,
    Not,
    Or,
)
from chatter.rules.values import (
    INTEGER,
    MAX_DEPTH,
    MAX_LENGTH,
    NUMBER,
    OPERATORS,
    RESERVED,
    SYMBOL_OPERATORS,
    WORD,
    Bound,
    Scalar,
    check_path,
    check_scalar,
)

_SYMBOLS = ("==", "!=", "<=", ">=", "<", ">", "=", "(", ")", "[", "]", ",", "*")
_INSTEAD = {"&": "and", "|": "or", "!": "not or !="}
#: The operators, for error messages.
OPERATOR_HELP = "Operators: " + ", ".join(OPERATORS) + " (or ==, !=, <, <=, >, >=)."


@dataclass(frozen=True, slots=True)
class Token:
    """One word, quoted string (``text`` is its decoded content), symbol, or the end of text."""

    kind: Literal["word", "string", "symbol", "end"]
    text: str
    column: int  # 1-based

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the condition"
        if self.kind == "string":
            return "quoted text " + repr(self.text)
        return repr(self.text)

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words

    def is_symbol(self, symbol: str) -> bool:
        return self.kind == "symbol" and self.text == symbol


def pointer(text: str, column: int) -> str:
    """The text around ``column`` on one line and a caret under it."""
    index = column - 1
    start = max(0, index - 50)
    end = min(len(text), start + 100)
    shown = "".join(ch if ch.isprintable() and not ch.isspace() else " " for ch in text[start:end])
    prefix = "..." if start else ""
    suffix = "..." if end < len(text) else ""
    return f"    {prefix}{shown}{suffix}\n    {' ' * (len(prefix) + index - start)}^"


def _fail(
    text: str, column: int, problem: str, hint: str = "", suggestions: Iterable[str] = ()
) -> NoReturn:
    where = "at the end" if column > len(text) else f"column {column}"
    raise ConditionError(
        f"{problem} ({where}).{hint}\n{pointer(text, column)}",
        column=column,
        suggestions=suggestions,
    )


def tokenize(text: str) -> list[Token]:
    """Words (paths, operators, bare values), quoted strings and symbols, then an end token."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "\"'":
            i = _read_string(text, i, tokens)
        elif match := WORD.match(text, i):
            tokens.append(Token("word", match.group(), i + 1))
            i = match.end()
        else:
            symbol = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
            if symbol is None:
                instead = f" Write {_INSTEAD[ch]!r} instead." if ch in _INSTEAD else ""
                _fail(text, i + 1, f"Unexpected character {ch!r}", instead)
            tokens.append(Token("symbol", symbol, i + 1))
            i += len(symbol)
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _read_string(text: str, start: int, tokens: list[Token]) -> int:
    """Append the string token opened at ``start``; backslash escapes the next character."""
    quote, chars, i = text[start], [], start + 1
    while i < len(text) and text[i] != quote:
        if text[i] == "\\" and i + 1 < len(text):
            i += 1
        chars.append(text[i])
        i += 1
    if i >= len(text):
        _fail(text, start + 1, f"Unterminated string: no closing {quote}")
    tokens.append(Token("string", "".join(chars), start + 1))
    return i + 1


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
        _fail(self.text, token.column, problem, hint, suggestions)

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
