"""Structured logging (structlog) that cannot carry patient text.

Log events name what happened with ids and numbers only. As a second line of defence a
processor keeps only allow-listed keys and short, plain values, so a careless
`log.info("x", text=...)` is dropped rather than written.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

__all__ = ["configure_logging", "get_logger"]

ALLOWED_KEYS = {
    "event", "level", "timestamp", "logger", "logger_name", "user_id", "patient_id", "role", "tier", "phase",
    "replies", "error", "host", "port", "url", "count", "version", "kek_id", "path", "status",
    "escalation_id", "module_id", "step_id", "source", "reason", "seconds", "username",
    "seq", "action", "hash_prefix",
}
MAX_VALUE_CHARS = 120


def _only_allowed(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in event.items():
        if key not in ALLOWED_KEYS:
            kept.setdefault("dropped", []).append(key)
            continue
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS] + "…"
        kept[key] = value
    return kept


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    """Write to whatever `sys.stderr` is at the time of the call (tests replace it)."""
    return structlog.PrintLogger(file=sys.stderr)


def configure_logging(level: str = "INFO") -> None:
    """Send JSON lines to stderr; quieten libraries that could echo request content."""
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "openai", "httpcore", "langchain", "langgraph"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _only_allowed,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(logger_name=name)
