"""What admins do with permissions: grant, revoke, set data scopes, list. Each operation is
itself authorized (``grant`` on ``admin:permissions``) and audited, allowed or denied, so the
audit log holds the full history of who could do what and who changed it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chatter.context import Context
from chatter.errors import UnknownNameError, UnknownToolError, invalid_value_from
from chatter.governance.guard import Guard
from chatter.governance.permissions import Grant, Level, admin_resources
from chatter.governance.ratelimit import RateLimit
from chatter.result import STEP_TYPES
from chatter.semantic.model import SemanticModel
from chatter.semantic.query import Filter, resolve_filter
from chatter.tools.registry import TOOLS


def _check_names(resource: str) -> None:
    """A grant on a tool or step type that does not exist is a typo: say so, with choices."""
    kind, _, name = resource.partition(":")
    if name == "*" or not name:
        return
    if kind == "tool" and name not in TOOLS:
        raise UnknownToolError(name, TOOLS, context="in the grant")
    if kind == "type" and name not in STEP_TYPES:
        raise UnknownNameError(name, STEP_TYPES, context="(step type) in the grant")


@dataclass(frozen=True)
class Admin:
    """Permission changes and reads on one data directory's grants, each asked of its guard.
    ``model`` gives the semantic model a scope's filters are checked against (the admin's)."""

    guard: Guard
    model: Callable[[Context], SemanticModel]

    def _allow(self, by: Context, method: str, action: str, request: dict[str, Any]) -> None:
        """The guard's word (audited either way) on ``by`` changing or reading permissions."""
        self.guard.authorize(
            by, method, admin_resources("permissions"), action=action, params=request
        )

    def grant(
        self,
        by: Context,
        subject: str,
        resource: str,
        level: Level | str | int,
        *,
        methods: Iterable[str] | None = None,
        rate_limit: RateLimit | dict[str, Any] | None = None,
        expires_at: dt.datetime | str | None = None,
    ) -> Grant:
        """Give ``subject`` (``user:<name>`` or ``role:<name>``) ``level`` on ``resource``,
        replacing any grant it had there."""
        request = {
            "subject": subject,
            "resource": resource,
            "level": level if isinstance(level, str | int) else level.name.lower(),
            "methods": sorted(methods) if methods is not None else None,
            "rate_limit": rate_limit.model_dump()
            if isinstance(rate_limit, RateLimit)
            else rate_limit,
            "expires_at": expires_at.isoformat()
            if isinstance(expires_at, dt.datetime)
            else expires_at,
        }
        self._allow(by, "grant", "permissions.grant", request)
        try:
            made = Grant.model_validate({**request, "granted_by": by.user})
        except ValidationError as err:
            raise invalid_value_from(err, "grant") from None
        _check_names(made.resource)
        self.guard.permissions.put(made)
        return made

    def revoke(self, by: Context, subject: str, resource: str) -> bool:
        """Remove ``subject``'s grant on ``resource``; False when there was none."""
        request = {"subject": subject, "resource": resource}
        self._allow(by, "grant", "permissions.revoke", request)
        return self.guard.permissions.delete(subject, resource)

    def list_grants(self, by: Context, subject: str | None = None) -> list[Grant]:
        self._allow(by, "read", "permissions.list", {"subject": subject})
        return self.guard.permissions.list_grants(subject)

    def set_scope(
        self, by: Context, subject: str, filters: Iterable[Filter | dict[str, Any]]
    ) -> tuple[Filter, ...]:
        """Make ``filters`` mandatory for ``subject``'s every query (an empty list clears them).
        Fields and values are checked against ``by``'s semantic model now, so a typo fails here
        and not, later, every query of the user."""
        raw = [f.model_dump(mode="json") if isinstance(f, Filter) else f for f in filters]
        request = {"subject": subject, "filters": raw}
        self._allow(by, "grant", "permissions.scope", request)
        try:
            Grant(subject=subject, resource="*", level=Level.NONE)  # the subject's shape
            parsed = tuple(Filter.model_validate(f) for f in raw)
        except ValidationError as err:
            raise invalid_value_from(err, "scope") from None
        model = self.model(by)
        for f in parsed:
            resolve_filter(model, f, ())
        self.guard.permissions.set_scope(subject, parsed, by.user)
        return parsed

    def get_scope(self, by: Context, subject: str) -> tuple[Filter, ...]:
        self._allow(by, "read", "permissions.scope_read", {"subject": subject})
        return self.guard.permissions.scope(subject)
