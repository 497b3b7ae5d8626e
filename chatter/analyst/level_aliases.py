"""Other names of a dimension's levels: a country's name for its ISO code and the code for its
name (through pycountry), so "in Germany" finds the level "DE" and "DE" finds "Germany"."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import pycountry


@cache
def _codes() -> dict[str, str]:
    """Lower-case country name (or alpha-3 code) -> ISO alpha-2 code, read once."""
    return {
        name.lower(): country.alpha_2 for country in pycountry.countries for name in _names(country)
    }


def _names(country: object) -> list[str]:
    own = [getattr(country, k, None) for k in ("name", "common_name", "alpha_3")]
    return [n for n in own if isinstance(n, str) and n]


#: Names people use that the ISO standard does not.
COMMON = {"GB": ["UK", "Britain", "Great Britain"], "US": ["America", "United States of America"]}
COMMON |= {"NL": ["Holland"], "KR": ["Korea"], "CZ": ["Czech Republic"], "TR": ["Turkey"]}


def country_names(code: str) -> list[str]:
    """The names a country code goes by ("DE" -> Germany, DEU)."""
    if len(code) != 2 or not code.isupper():
        return []
    country = pycountry.countries.get(alpha_2=code)
    return [*_names(country), *COMMON.get(code, [])] if country is not None else []


def aliases(values: Iterable[str]) -> dict[str, str]:
    """Alias text -> the level it names, for levels that are country codes or country names
    (only when every level of the dimension is one: a plan called "US" is no country)."""
    levels = list(values)
    if not levels:
        return {}
    codes = _codes()
    if all(country_names(v) for v in levels):
        return {alias: v for v in levels for alias in country_names(v)}
    if all(v.lower() in codes for v in levels):
        return {codes[v.lower()]: v for v in levels}
    return {}
