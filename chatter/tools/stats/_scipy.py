"""The parts of scipy the tests use, imported on first use (see chatter.lazy_import): type
checkers see the real modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scipy import special as special
    from scipy import stats as stats
    from scipy.stats import contingency as contingency
else:
    from chatter.lazy_import import lazy_module

    special = lazy_module("scipy.special")
    stats = lazy_module("scipy.stats")
    contingency = lazy_module("scipy.stats.contingency")

__all__ = ["contingency", "special", "stats"]
