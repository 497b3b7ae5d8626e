"""structlog configured for JSON lines on stderr; stdout is kept for results."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class _StderrLoggerFactory:
    """Writes to whatever ``sys.stderr`` is at call time, so redirected stderr is honoured."""

    def __call__(self, *args: Any) -> structlog.PrintLogger:
        return structlog.PrintLogger(file=sys.stderr)


def _redact_secrets(logger: Any, method: str, event: Any) -> Any:
    """Secrets never reach a log line, whatever value carried them (imported late: the
    scanner's patterns are only compiled once something logs)."""
    from chatter.sensitive import structlog_redactor

    return structlog_redactor(logger, method, event)


def configure_logging(level: str = "warning") -> None:
    """Send JSON log lines at ``level`` and above to stderr."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            _redact_secrets,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            _LEVELS.get(level.lower(), logging.WARNING)
        ),
        logger_factory=_StderrLoggerFactory(),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A structlog logger; if nothing configured logging yet, JSON on stderr at warning."""
    if not structlog.is_configured():
        configure_logging()
    return structlog.get_logger(name)
