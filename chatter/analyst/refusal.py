"""The one place a refusal becomes an answer: what the analyst says when the guard says no
(a permission, a rate limit, a secret in the message), with no result."""

from __future__ import annotations

import uuid

from chatter.errors import (
    ChatterError,
    PermissionDeniedError,
    RateLimitedError,
    SensitiveContentError,
)
from chatter.result import Answer, Route

#: The guard's refusals: answered in the conversation, never raised to the caller.
REFUSALS = (PermissionDeniedError, RateLimitedError, SensitiveContentError)


def refusal(err: ChatterError) -> Answer:
    error = err.to_dict()["error"]
    return Answer(
        workflow="refused",
        run_id=uuid.uuid4().hex,
        status="failed",
        route=Route(workflow="refused", confidence=1.0, reason=str(error.get("code", "refused"))),
        text=err.message,
        error=error,
    )
