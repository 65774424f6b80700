"""Logs as JSON lines on stdout, one object per record, written in batches by a
background thread so that neither logging nor a slow reader of the log stalls the
event loop."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import traceback
from datetime import UTC, datetime
from typing import Any, BinaryIO

import msgspec

_encoder = msgspec.json.Encoder()
# the loggers of this project: the server's modules and the per-request access log
OUR_LOGGERS = ("server", "hamkari")


def json_line(
    at: datetime, level: str, logger: str, message: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """The shape of every line: `{"ts", "level", "logger", "message", ...fields}`."""
    return {
        "ts": at.isoformat(timespec="milliseconds"),
        "level": level,
        "logger": logger,
        "message": message,
        **fields,
    }


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", ...fields}`; fields come from `extra={"fields":
    {...}}`, exceptions as one `exception` string."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        line = json_line(
            datetime.fromtimestamp(record.created, UTC),
            record.levelname.lower(),
            record.name,
            record.getMessage(),
            fields if isinstance(fields, dict) else {},
        )
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return _encoder.encode(line).decode()


class BufferedLineHandler(logging.Handler):
    """Formats each record as one line and lets a writer thread write what has piled up,
    every `interval` seconds: a line costs a request a few microseconds and never a
    system call, and a slow reader of stdout stalls only the writer thread. Past
    `max_lines` waiting, lines are dropped and counted rather than held."""

    def __init__(
        self, stream: BinaryIO, *, interval: float = 0.05, max_lines: int = 100_000
    ) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self._stream = stream
        self._interval = interval
        self._max_lines = max_lines
        self._lines: list[bytes] = []
        self._dropped = 0
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._run, name="hamkari-log-writer", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        # logging holds self.lock around emit
        if len(self._lines) >= self._max_lines:
            self._dropped += 1
            return
        try:
            self._lines.append(self.format(record).encode() + b"\n")
        except Exception:
            self.handleError(record)

    def write(self, logger: str, message: str, fields: dict[str, Any]) -> None:
        """One info line as `format` would make it, without a LogRecord: for a line
        written on every request, where building the record costs more than the line."""
        encoded = _encoder.encode(json_line(datetime.now(UTC), "info", logger, message, fields))
        encoded += b"\n"
        with self.lock or contextlib.nullcontext():
            if len(self._lines) >= self._max_lines:
                self._dropped += 1
            else:
                self._lines.append(encoded)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()
        self.flush()

    def flush(self) -> None:
        with self.lock or contextlib.nullcontext():
            lines, self._lines = self._lines, []
            dropped, self._dropped = self._dropped, 0
        if dropped:
            lines.append(_encoder.encode({"level": "warning", "dropped_lines": dropped}) + b"\n")
        if not lines:
            return
        with contextlib.suppress(OSError, ValueError):  # a closed stdout loses the lines
            self._stream.write(b"".join(lines))
            self._stream.flush()

    def close(self) -> None:
        # logging.shutdown calls this holding self.lock, which the writer thread may be
        # waiting for: flush from here instead of joining it
        self._stop.set()
        self.flush()
        super().close()


def line_writer() -> BufferedLineHandler | None:
    """The handler `configure_logging` gave this process's loggers, if it ran."""
    handlers = logging.getLogger(OUR_LOGGERS[0]).handlers
    return next((h for h in handlers if isinstance(h, BufferedLineHandler)), None)


def configure_logging(level: int = logging.INFO) -> None:
    """Send this project's loggers to stdout as JSON lines, once per process, and the
    warnings and errors of the libraries' loggers (asyncpg, eventsourcing, litestar)
    too."""
    if line_writer() is not None:
        return
    handler = BufferedLineHandler(sys.stdout.buffer)
    # logging.shutdown (at exit) closes the handler: the lines still waiting are written
    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def granian_log_config() -> dict[str, Any]:
    """granian's own lines (workers starting, stopping) as JSON lines too."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {
            "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
