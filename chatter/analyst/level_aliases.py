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
#: What people call a country's accounts ("German customers"); pycountry has no demonyms.
DEMONYMS = {
    "US": ["American"], "GB": ["British"], "DE": ["German"], "FR": ["French"],
    "ES": ["Spanish"], "IT": ["Italian"], "NL": ["Dutch"], "BE": ["Belgian"],
    "CH": ["Swiss"], "AT": ["Austrian"], "SE": ["Swedish"], "NO": ["Norwegian"],
    "DK": ["Danish"], "FI": ["Finnish"], "IE": ["Irish"], "PT": ["Portuguese"],
    "PL": ["Polish"], "CZ": ["Czech"], "GR": ["Greek"], "TR": ["Turkish"],
    "CA": ["Canadian"], "MX": ["Mexican"], "BR": ["Brazilian"], "AR": ["Argentinian"],
    "CL": ["Chilean"], "CO": ["Colombian"], "PE": ["Peruvian"], "JP": ["Japanese"],
    "CN": ["Chinese"], "KR": ["Korean", "South Korean"], "IN": ["Indian"], "SG": ["Singaporean"],
    "AU": ["Australian"], "NZ": ["New Zealander"], "ZA": ["South African"],
    "IL": ["Israeli"], "AE": ["Emirati"], "SA": ["Saudi"], "EG": ["Egyptian"],
    "NG": ["Nigerian"], "KE": ["Kenyan"], "TH": ["Thai"], "VN": ["Vietnamese"],
    "ID": ["Indonesian"], "PH": ["Filipino"], "MY": ["Malaysian"], "UA": ["Ukrainian"],
    "RO": ["Romanian"], "HU": ["Hungarian"], "IS": ["Icelandic"], "LU": ["Luxembourgish"],
    "KZ": ["Kazakh"], "PK": ["Pakistani"], "BD": ["Bangladeshi"], "IQ": ["Iraqi"],
    "KW": ["Kuwaiti"], "QA": ["Qatari"], "OM": ["Omani"], "YE": ["Yemeni"], "AF": ["Afghan"],
    "UZ": ["Uzbek"], "TJ": ["Tajik"], "KG": ["Kyrgyz"], "SK": ["Slovak"], "CY": ["Cypriot"],
    "MT": ["Maltese"], "LB": ["Lebanese"], "SD": ["Sudanese"], "SN": ["Senegalese"],
    "GH": ["Ghanaian"], "CI": ["Ivorian"], "TW": ["Taiwanese"], "NP": ["Nepali", "Nepalese"],
    "MM": ["Burmese"], "PA": ["Panamanian"], "UY": ["Uruguayan"], "PY": ["Paraguayan"],
    "DO": ["Dominican"], "BH": ["Bahraini"], "LT": ["Lithuanian"], "SV": ["Salvadoran"],
    "CD": ["Congolese"], "CG": ["Congolese"], "GA": ["Gabonese"], "TG": ["Togolese"],
}  # fmt: skip


def derived_demonym(name: str) -> str | None:
    """The regular English demonym of a one- or two-word country name ("Jordan" ->
    "Jordanian", "Uganda" -> "Ugandan", "Costa Rica" -> "Costa Rican", "Italy" -> "Italian");
    irregular ones ("German", "Finnish") are in ``DEMONYMS``, which wins."""
    if not name.replace(" ", "").isalpha() or len(name.split()) > 2:
        return None
    if any(w in name.split() for w in ("Republic", "Islands", "Island", "and", "of")):
        return None
    if name.endswith("a"):
        return name + "n"
    if name.endswith("y"):
        return name[:-1] + "ian"
    if name.endswith("o"):
        return name[:-1] + "an"
    if name.endswith("e"):
        return name + "an"
    return name + "ian"


def _demonyms() -> dict[str, list[str]]:
    out = {code: list(names) for code, names in DEMONYMS.items()}
    for country in pycountry.countries:
        if country.alpha_2 not in out:
            said = getattr(country, "common_name", None) or country.name
            demonym = derived_demonym(said)
            out[country.alpha_2] = [demonym] if demonym else []
    return out


_ALL_DEMONYMS = _demonyms()
COMMON = {c: [*COMMON.get(c, []), *_ALL_DEMONYMS.get(c, [])] for c in {*COMMON, *_ALL_DEMONYMS}}


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


# Country codes that are also words or common abbreviations when written in capitals.
_CODE_WORDS = frozenset(
    [
        "IT",
        "IN",
        "NO",
        "AT",
        "ID",
        "MY",
        "BE",
        "TO",
        "OR",
        "AM",
        "AS",
        "IS",
        "ME",
        "SO",
        "DO",
        "GO",
        "IF",
        "OF",
        "ON",
        "UP",
        "AI",
        "PR",
        "QA",
    ]
)


@cache
def _names_index() -> dict[tuple[str, ...], str]:
    """Country name as lower-case words -> ISO alpha-2 code (names only, never alpha-3 codes:
    "per" and "can" are words)."""
    index: dict[tuple[str, ...], str] = {}
    for country in pycountry.countries:
        for name in (getattr(country, k, None) for k in ("name", "common_name")):
            if isinstance(name, str) and "," not in name:
                index[tuple(name.lower().replace("-", " ").split())] = country.alpha_2
    for code, names in COMMON.items():
        for name in names:
            index[tuple(name.lower().split())] = code
    return index


def countries_in(
    raw: tuple[str, ...], original: tuple[str, ...], any_case: frozenset[int] = frozenset()
) -> list[tuple[int, int, str]]:
    """Countries a question names, as (start, end, ISO code): names of several words in any
    case ("united states"), one-word names capitalised ("Japan", not "chad") or in any case at
    the positions ``any_case`` (where only a place can stand: "in australia"), and codes in
    capitals ("JP") or, at those positions, in lower case ("from jp")."""
    index = _names_index()
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(raw):
        for n in (4, 3, 2, 1):
            code = index.get(tuple(raw[i : i + n]))
            cased = n > 1 or i in any_case or (i < len(original) and original[i][:1].isupper())
            if code and cased and i + n <= len(raw):
                found.append((i, i + n, code))
                i += n
                break
        else:
            written = original[i] if i < len(original) else ""
            # a code in capitals, or in lower case where only a place can stand ("from jp")
            cased = written.isupper() or (i in any_case and written.islower())
            code_like = len(written) == 2 and cased and written.upper() not in _CODE_WORDS
            if code_like and pycountry.countries.get(alpha_2=written.upper()) is not None:
                found.append((i, i + 1, written.upper()))
            i += 1
    return found


@cache
def country_words() -> frozenset[str]:
    """Words of countries' names of several words ("united", "states"): spelling repair must
    leave them, or "United States" becomes "united status"."""
    return frozenset(w for name in _names_index() if len(name) > 1 for w in name)
