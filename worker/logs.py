"""Logging set-up: readable lines by default, one JSON object per line by setting.

JSON records always carry the same field names: ``time``, ``level``, ``logger``, ``message``, and
``source``/``url``/``alert`` when the call passed them in ``extra``.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

FIELDS = ("source", "url", "alert", "destination")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        for name in FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(out, ensure_ascii=False)


def configure(level: str = "INFO", *, as_json: bool = False) -> None:
    """Send policywatch's logs to stderr; quiet the chatty libraries."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else
                         logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("policywatch").setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "trafilatura", "alembic", "apprise"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
