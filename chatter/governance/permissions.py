"""Who may do what: roles, per-user grants with ordered levels, and the decision.

A request names a *resource* and a *method*. Resources are ``tool:<name>`` (one tool),
``type:<step type>`` (every tool of a step type), ``workflow:<template>``, ``admin:<area>``
(``metrics``, ``audit``, ``permissions``), the wildcards ``tool:*``, ``workflow:*``,
``admin:*``, or ``*``. Methods need a level: ``read`` needs read, ``run`` and ``cancel`` need
execute, ``grant`` needs admin; levels really order (none < read < execute < admin).

The decision takes the most specific resource that anything speaks for; at that resource a
user's grant beats a grant to the user's role, which beats the role's built-in default (CONTRACT
section 6). Expired grants speak for nothing. Nothing speaking means deny: an unknown role, a
new tool nobody granted, a typo in a role name all end in "denied".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import IntEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chatter.errors import InvalidValueError, UnknownNameError
from chatter.governance.ratelimit import RateLimit


class Level(IntEnum):
    NONE = 0
    READ = 1
    EXECUTE = 2
    ADMIN = 3

    @classmethod
    def parse(cls, value: object) -> Level:
        if isinstance(value, Level):
            return value
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and value in {m.value for m in cls}
        ):
            return cls(value)
        name = str(value).strip().upper()
        if name not in cls.__members__:
            raise UnknownLevelError(str(value), [m.lower() for m in cls.__members__])
        return cls[name]


class UnknownLevelError(UnknownNameError):
    code = "unknown_level"
    kind = "permission level"


class UnknownMethodError(UnknownNameError):
    code = "unknown_method"
    kind = "method"


#: The level each method needs.
METHODS: dict[str, Level] = {
    "read": Level.READ,
    "run": Level.EXECUTE,
    "cancel": Level.EXECUTE,
    "grant": Level.ADMIN,
}

ADMIN_AREAS = ("metrics", "audit", "permissions")
RESOURCE_KINDS = ("tool", "type", "workflow", "admin")
_RESOURCE = re.compile(r"^\*$|^(tool|type|workflow|admin):(\*|[A-Za-z_][A-Za-z0-9_-]{0,254})$")
_SUBJECT = re.compile(r"^(user|role):[^\x00-\x1f]{1,128}$")

#: The built-in roles (CONTRACT section 6): viewers run single queries; analysts also run
#: workflows, tests and analyses; admins also see metrics and audit and manage permissions.
ROLE_DEFAULTS: dict[str, dict[str, Level]] = {
    "viewer": {"type:query": Level.EXECUTE, "workflow:*": Level.READ},
    "analyst": {"tool:*": Level.EXECUTE, "workflow:*": Level.EXECUTE},
    "admin": {"*": Level.ADMIN},
}


class Grant(BaseModel):
    """What one subject (``user:<name>`` or ``role:<name>``) may do with one resource."""

    model_config = ConfigDict(frozen=True)

    subject: str
    resource: str
    level: Level
    #: Methods allowed at most (None: every method the level allows).
    methods: frozenset[str] | None = None
    rate_limit: RateLimit | None = None
    expires_at: dt.datetime | None = None
    granted_by: str = ""
    granted_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        if not _SUBJECT.match(value):
            raise ValueError("a subject is 'user:<name>' or 'role:<name>'")
        return value

    @field_validator("resource")
    @classmethod
    def _resource(cls, value: str) -> str:
        check_resource(value)
        return value

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, value: object) -> Level:
        return Level.parse(value)

    @field_validator("methods", mode="before")
    @classmethod
    def _methods(cls, value: object) -> frozenset[str] | None:
        if value is None:
            return None
        items = [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        for method in items:
            if method not in METHODS:
                raise UnknownMethodError(str(method), METHODS)
        return frozenset(items)

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # naive times are UTC, as everywhere here
        return value

    def active(self, now: dt.datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


def check_resource(resource: str) -> None:
    """Raise a clear error unless ``resource`` is a well-formed resource name."""
    if not _RESOURCE.match(resource):
        raise InvalidValueError(
            "resource",
            resource,
            "'*' or '<kind>:<name>' with kind one of " + ", ".join(RESOURCE_KINDS),
        )
    kind, _, name = resource.partition(":")
    if kind == "admin" and name not in (*ADMIN_AREAS, "*"):
        raise UnknownNameError(name, [*ADMIN_AREAS, "*"], context="after 'admin:'")


def tool_resources(tool: str, step_type: str | None) -> tuple[str, ...]:
    """What a call to ``tool`` is, from the most specific name to the least."""
    typed = (f"type:{step_type}",) if step_type else ()
    return (f"tool:{tool}", *typed, "tool:*", "*")


def workflow_resources(template: str) -> tuple[str, ...]:
    return (f"workflow:{template}", "workflow:*", "*")


def admin_resources(area: str) -> tuple[str, ...]:
    return (f"admin:{area}", "admin:*", "*")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    #: The grant that decided (None for a built-in role default or no match).
    grant: Grant | None = None
    #: Every active grant among the request's resources that carries a rate limit.
    limits: tuple[Grant, ...] = ()


def decide(
    *,
    user: str,
    role: str,
    method: str,
    resources: tuple[str, ...],
    grants: dict[tuple[str, str], Grant],
    now: dt.datetime | None = None,
) -> Decision:
    """Allow or deny ``method`` on the first of ``resources`` anything speaks for."""
    if method not in METHODS:
        raise UnknownMethodError(method, METHODS)
    now = now or dt.datetime.now(dt.UTC)
    needed = METHODS[method]
    subjects = (f"user:{user}", f"role:{role}")
    active = {k: g for k, g in grants.items() if g.active(now)}
    limits = tuple(
        g for s in subjects for r in resources if (g := active.get((s, r))) and g.rate_limit
    )
    for resource in resources:
        for subject in subjects:
            grant = active.get((subject, resource))
            if grant is not None:
                return _judge(
                    grant.level, grant.methods, method, needed, subject, resource, grant, limits
                )
        default = ROLE_DEFAULTS.get(role, {}).get(resource)
        if default is not None:
            return _judge(default, None, method, needed, f"role {role}", resource, None, limits)
    known = (
        ""
        if role in ROLE_DEFAULTS
        else f" (role {role!r} is not one of {', '.join(ROLE_DEFAULTS)})"
    )
    return Decision(
        False, f"nothing grants user {user!r} {method} on {resources[0]}{known}", None, limits
    )


def _judge(
    level: Level,
    methods: frozenset[str] | None,
    method: str,
    needed: Level,
    who: str,
    resource: str,
    grant: Grant | None,
    limits: tuple[Grant, ...],
) -> Decision:
    if level < needed:
        why = f"{who} has {level.name.lower()} on {resource}; {method} needs {needed.name.lower()}"
        return Decision(False, why, grant, limits)
    if methods is not None and method not in methods:
        allowed = ", ".join(sorted(methods)) or "none"
        return Decision(
            False, f"{who} may only {allowed} on {resource}, not {method}", grant, limits
        )
    return Decision(True, f"{who} has {level.name.lower()} on {resource}", grant, limits)
