"""Modules imported when first used, not when their importer is.

``scipy.stats`` alone takes over half a second to import, and a question answered from the
cache, or one that runs no test, never calls it: a stand-in for the module imports it on its
first attribute lookup, so only the runs that test anything pay for it.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

__all__ = ["lazy_module"]


class _LazyModule(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        # sys.modules holds the real module after the first call: later lookups are a dict hit
        return getattr(importlib.import_module(self.__name__), attr)


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` (``"scipy.stats"``) that imports it when first used."""
    return _LazyModule(name)
