"""A Router for one warehouse: vocabulary from its semantic model, the templates, and the levels
found in its data."""

from __future__ import annotations

from typing import Any

from chatter.analyst.route import Router
from chatter.analyst.vocabulary import build_vocabulary, data_levels
from chatter.semantic.warehouse import Warehouse
from chatter.workflow.template import builtin_templates

_routers: dict[tuple[str, str, str], Router] = {}


def router_for(warehouse: Warehouse, llm: Any = None) -> Router:
    """Cached per database version and model, since the levels come from the data."""
    key = (warehouse.engine.identity, warehouse.engine.version, warehouse.model.content_hash)
    router = _routers.get(key)
    if router is None:
        templates = builtin_templates()
        vocab = build_vocabulary(warehouse.model, templates, data_levels(warehouse))
        router = Router(warehouse.model, vocab, dict(templates))
        _routers[key] = router
    if llm is not router.llm:
        router = Router(router.model, router.vocab, router.templates, llm)
    return router
