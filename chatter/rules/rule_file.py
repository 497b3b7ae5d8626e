"""A routing rule file: a rule set whose ``then`` payloads say what runs. ``then`` may hold
``template``, ``customizations``, ``composite``, or ``{"route": "as_routed"}`` to keep the
router's choice; anything else, or a template that does not exist, fails when the file loads."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from chatter.errors import ConditionError, UnknownTemplateError
from chatter.rules.ruleset import RuleSet

THEN_KEYS = {"template", "customizations", "composite", "route"}


def load_rules(path: Path, templates: Collection[str]) -> RuleSet:
    """The rule set at ``path``, with what each rule's ``then`` says checked: only known keys,
    and only templates that exist (``templates``)."""
    rules = RuleSet.from_path(path)
    for name, then in [*((r.name, r.then) for r in rules.rules), ("default", rules.default)]:
        unknown = set(then) - THEN_KEYS
        if unknown:
            raise ConditionError(
                f"{path}: rule {name!r} then: unknown key(s) "
                f"{', '.join(sorted(unknown))}; use {', '.join(sorted(THEN_KEYS))}"
            )
        if "template" in then and then["template"] not in templates:
            raise UnknownTemplateError(
                str(then["template"]),
                templates,
                context=f"in rule {name!r} of {path}",
            )
    return rules
