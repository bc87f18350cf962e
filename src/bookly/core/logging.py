"""Logs as one JSON object per line on stderr, with secrets scrubbed before they are written.

`bookly serve` hands `logging_config()` to uvicorn, so uvicorn's own messages come out as JSON too,
and turns uvicorn's access log off: `core/telemetry.py` writes ours (one line per request, with the
route template, never the raw path or query string).

Nothing should ever log a secret; the formatter scrubs the shapes a secret could take anyway
(JWTs, `Bearer …`, `token=`/`password=`-style pairs) as a second line of defence.
"""

import json
import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

ACCESS_LOGGER = "bookly.access"

# Fields a log call may attach with `extra=` that belong in the JSON object.
_EXTRA_FIELDS = (
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "user_uid",
    "client_ip",
)

_SECRET_SHAPES = (
    # JWTs and itsdangerous tokens over JSON payloads: base64url('{"') == 'eyJ'.
    (re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*"), "[redacted-token]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+"), r"\1 [redacted]"),
    (
        re.compile(
            r"(?i)\b((?:access_|refresh_)?token|password|new_password|current_password|secret"
            r"|authorization|cookie|set-cookie)(['\"]?\s*[=:]\s*['\"]?)[^\s&'\",;]+"
        ),
        r"\1\2[redacted]",
    ),
)


def scrub(text: str) -> str:
    for pattern, replacement in _SECRET_SHAPES:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for name in _EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the whole process (uvicorn applies it in every worker)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            # uvicorn's loggers write through the root handler (as JSON); its access log is off.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def configure_logging(level: str) -> None:
    """JSON lines on stderr for processes uvicorn does not set up (`bookly worker`)."""
    logging.config.dictConfig(logging_config(level))
