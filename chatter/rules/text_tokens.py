"""Condition text to tokens: words (paths, operators, bare values), quoted strings, symbols and
an end token, each with its column; an error draws a caret under the offending character."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NoReturn

from chatter.errors import ConditionError
from chatter.rules.values import WORD

_SYMBOLS = ("==", "!=", "<=", ">=", "<", ">", "=", "(", ")", "[", "]", ",", "*")
_INSTEAD = {"&": "and", "|": "or", "!": "not or !="}


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


def fail_at(
    text: str, column: int, problem: str, hint: str = "", suggestions: Iterable[str] = ()
) -> NoReturn:
    """Raise a ConditionError about ``column`` of ``text``, with a caret under it."""
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
                fail_at(text, i + 1, f"Unexpected character {ch!r}", instead)
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
        fail_at(text, start + 1, f"Unterminated string: no closing {quote}")
    tokens.append(Token("string", "".join(chars), start + 1))
    return i + 1
