"""Logs as one JSON object per line on stderr, with secrets scrubbed before they are written.

`bookly serve` hands `logging_config()` to uvicorn, so uvicorn's own messages come out as JSON too,
and turns uvicorn's access log off: `core/telemetry.py` writes ours (one line per request, with the
route template, never the raw path or query string).

Nothing should ever log a secret; the formatter scrubs the shapes a secret could take anyway
(JWTs, `Bearer …`, `token=`/`password=`-style pairs) as a second line of defence.

Logging is on every request's path, so it is kept cheap: a log call only hands its record to a
queue; a writer thread formats what has queued up (orjson) and writes it in one go. uvicorn's
own messages, and the handler's `close()` at exit, write out the queue at once.
"""

import logging
import logging.config
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

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
# Every secret shape contains one of these words (lower-cased); text without any is left as it
# is without running the patterns, which cost far more than these substring tests.
_SECRET_MARKERS = (
    "eyj",
    "bearer",
    "basic",
    "token",
    "password",
    "secret",
    "authorization",
    "cookie",
)

# How long the writer lets records gather before it writes them: one write and one wake-up of
# its thread per batch instead of per line, at the price of a line reaching stderr that late.
WRITE_DELAY_SECONDS = 0.02


def scrub(text: str) -> str:
    folded = text.lower()
    if not any(marker in folded for marker in _SECRET_MARKERS):
        return text
    for pattern, replacement in _SECRET_SHAPES:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        # The last second formatted, and its text: a second's lines share everything but the
        # milliseconds.
        self._second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        attributes = record.__dict__
        for name in _EXTRA_FIELDS:
            value = attributes.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()

    def _time(self, record: logging.LogRecord) -> str:
        """ISO 8601 in UTC to the millisecond: `2026-11-29T07:21:12.263+00:00`."""
        second = int(record.created)
        if self._second[0] != second:
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (second, text)
        return f"{self._second[1]}.{int(record.msecs):03d}+00:00"


class BackgroundStreamHandler(logging.Handler):
    """Writes formatted records to `stream` from a thread of its own, so that a log call on the
    request path costs its caller (the event loop) an append to a queue, never a write.

    Records of the loggers in `write_at_once` are written by the call itself, after everything
    queued before them: uvicorn's start and stop messages, after the last of which a worker of
    `bookly serve --workers N` dies by its own re-raised SIGTERM, with no exit handlers run.
    `close()` (called by `logging.shutdown` at a clean exit) writes whatever is still queued.
    The queue is unbounded: a stalled stream holds records in memory rather than blocking the
    event loop or dropping lines.
    """

    def __init__(self, stream: TextIO, write_at_once: Iterable[str] = ()) -> None:
        super().__init__()
        self.stream = stream
        self._write_at_once = frozenset(write_at_once)
        self._queued: deque[logging.LogRecord] = deque()  # appends are thread-safe
        self._queued_lock = threading.Lock()  # one writer at a time, in the queue's order
        self._some_queued = threading.Event()
        self._stopped = False
        # A daemon thread: the interpreter joins non-daemon threads before `logging.shutdown`
        # runs, and this one only ends when `close()` asks it to.
        self._writer = threading.Thread(
            target=self._write_until_closed, name="bookly-log-writer", daemon=True
        )
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        self._queued.append(record)
        if self._stopped or record.name in self._write_at_once:
            self._write_queued()
        elif not self._some_queued.is_set():
            self._some_queued.set()

    def close(self) -> None:
        # Under the handler's lock (as `logging.shutdown` calls it), so no emit() runs meanwhile.
        if not self._stopped:
            self._stopped = True
            self._some_queued.set()
            self._writer.join()
        super().close()

    def _write_until_closed(self) -> None:
        while not self._stopped:
            self._some_queued.wait()
            time.sleep(WRITE_DELAY_SECONDS)
            self._some_queued.clear()
            self._write_queued()
        self._write_queued()

    def _write_queued(self) -> None:
        with self._queued_lock:
            lines = []
            while self._queued:
                record = self._queued.popleft()
                try:
                    lines.append(self.format(record) + "\n")
                except Exception:
                    self.handleError(record)
            if not lines:
                return
            try:
                self.stream.write("".join(lines))
                self.stream.flush()
            except Exception:
                self.handleError(record)


def skip_unwritten_record_fields() -> None:
    """Log records stop gathering what no JSON line writes: the caller's file, line and function
    (a walk up the stack per record), the thread's and the process's names (the logging HOWTO's
    "Optimization" settings). For the processes Bookly runs; the tests' records keep them."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def logging_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the whole process (uvicorn applies it in every worker)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "()": BackgroundStreamHandler,
                "formatter": "json",
                "stream": "ext://sys.stderr",
                "write_at_once": ["uvicorn.error"],
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
    skip_unwritten_record_fields()
