"""Words that mark a question's structure: a grouping ("by", "per"), a filter ("for", "only"),
an exclusion ("except"), a time grain ("monthly"), an order ("top", "lowest"), a rate ("share");
and the words of the parser's own that spelling repair must leave alone."""

from __future__ import annotations

from chatter.analyst.time_window import WINDOW_WORDS
from chatter.analyst.words import phrase, tokens

GROUP_CUES = frozenset(
    phrase("by per across each every which what split broken grouped among between vs versus")
)
FILTER_CUES = frozenset(phrase("for only just in among on within where with"))
EXCLUDE_CUES = frozenset(
    phrase("excluding exclude except without not besides other than apart ignoring omitting")
)
GRAINS = {
    "daily": "day",
    "day": "day",
    "weekly": "week",
    "week": "week",
    "monthly": "month",
    "month": "month",
    "quarterly": "quarter",
    "quarter": "quarter",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
    "year": "year",
}
OVER_TIME = ("over time", "trend", "trending", "timeline", "time series")
# Raw words, not stems: "most" and "many" share a stem, and "how many" orders nothing.
DESCENDING = frozenset(
    [
        "top",
        "highest",
        "most",
        "best",
        "biggest",
        "largest",
        "greatest",
        "max",
        "maximum",
        "leading",
    ]
)
ASCENDING = frozenset(
    ["bottom", "lowest", "least", "worst", "smallest", "fewest", "min", "minimum"]
)
# Words that say each row is counted once ("distinct users", "unique accounts"): part of a
# count of a table's rows, which counts each row once already.
DISTINCT_CUES = frozenset(["distinct", "unique", "different", "individual", "separate"])
# Words that say the rows counted are new ("new signups", "new customers"): part of a count of
# a table's rows, each of which is new on its own date (the one a window filters).
NEW_CUES = frozenset(["new"])
# Words ranking a field's values by how often they occur: "the most common event type".
FREQUENCY_WORDS = frozenset(["common", "frequent", "popular", "usual", "prevalent"])
RATE_WORDS = frozenset(
    ["share", "rate", "rates", "percent", "percentage", "pct", "ratio", "proportion", "fraction"]
)
# Words that shape a question without naming what it is about: never "unused".
FUNCTION_WORDS = frozenset(
    tokens(
        "have has had having want wants need needs know look looking like get got make made ever "
        "overall total totals number numbers count counts amount breakdown split rank ranking "
        "ranked compare compared comparison figure figures stats data value values please "
        "currently now right still average avg mean typical better worse best worst well poorly "
        "likely likelihood chance odds how percent percentage fraction portion group grouped "
        "broken broke excluding exclude except without besides other only each every among "
        "within across between split view report give show tell list far ever alltime came "
        "come comes coming bring brings brought bringing via during throughout pls plz thanks "
        "thank thx kindly asap log logs logged record recorded track tracked break breaks pull "
        "pulled fetch grab basis"
    )
)
# Words of the router's own that must never be "repaired" into vocabulary words.
PROTECTED = frozenset(
    {
        *FUNCTION_WORDS,
        *GRAINS,
        *DESCENDING,
        *ASCENDING,
        *RATE_WORDS,
        *FREQUENCY_WORDS,
        *WINDOW_WORDS,
        "first",
        "last",
        "since",
        "before",
        "after",
        "until",
        "lately",
        "recently",
        "trend",
        "trending",
    }
)
