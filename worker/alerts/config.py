"""Where alerts go: the ``notify:`` section of settings.yaml and the destinations it shapes.

URLs (secrets) come only from ``POLICYWATCH_NOTIFY_URLS``; ``settings.yaml`` says how each is
used, matched by a piece of text its URL contains (first rule wins)::

    notify:
      format: text            # text | markdown | html
      templates: templates    # template directory, relative to the config directory
      max_per_hour: 30        # messages per destination per hour; beyond it alerts wait; 0 = no limit
      quiet_hours: ""         # e.g. "23:00-07:00" in `timezone`; alerts wait until it ends
      digest: ""              # "" (immediate) | hourly | "daily 08:00"
      kinds: [figure, position, ops]
      targets: []             # only alerts about these targets (ops always pass); [] = all
      destinations:
        - match: "mailto://"  # the same keys as above, for URLs containing this text
          digest: daily 08:00
          tags: [email]
          language: en        # only here: this destination's alerts and digests (default: the
                              # top-level `language` of settings.yaml)

A destination's id is a hash of its URL; its label shows only the scheme and host. Neither the URL nor any
part of it beyond scheme and host is stored or logged.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from worker.errors import ConfigError
from worker.settings import Settings

CONSOLE_ID = "console"
KINDS = frozenset({"figure", "position", "ops"})
FORMATS = ("text", "markdown", "html")
LANGUAGES = ("ko", "en")
#: Chat services flood-protect around 30 messages a minute; 30 an hour keeps a busy news day
#: readable while never dropping anything (the rest waits for the next hour).
DEFAULT_MAX_PER_HOUR = 30
_RULE_KEYS = {"format", "max_per_hour", "quiet_hours", "digest", "kinds", "targets", "tags"}
_TOP_KEYS = _RULE_KEYS | {"templates", "destinations"}
#: Keys a ``destinations`` item may have besides the rule keys (the top level has ``language``
#: outside ``notify:``, for every destination).
_DEST_KEYS = {"match", "language"}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Destination:
    """One place alerts go: an apprise URL (secret, never stored) or the console."""

    id: str  # sha256 of the URL (16 hex digits), or "console"
    label: str  # the redacted URL, for people
    url: str = field(default="", repr=False, compare=False)
    tags: tuple[str, ...] = ()
    mode: str = "immediate"  # immediate | hourly | daily
    daily_at: time | None = None
    timezone: str = "Asia/Seoul"
    fmt: str = "text"
    language: str = "ko"  # of its alerts and digests
    max_per_hour: int = DEFAULT_MAX_PER_HOUR  # 0: no limit
    quiet_hours: tuple[time, time] | None = None
    kinds: frozenset[str] = KINDS
    targets: frozenset[str] = frozenset()
    templates: Path | None = None

    @property
    def is_console(self) -> bool:
        return self.id == CONSOLE_ID

    @property
    def is_digest(self) -> bool:
        return self.mode != "immediate"

    def accepts(self, kind: str, target: str | None) -> bool:
        """Whether an alert of this kind about this target goes to this destination."""
        if kind not in self.kinds:
            return False
        return kind == "ops" or not self.targets or (target or "") in self.targets

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the quiet period ``now`` falls in, or None when it is not quiet."""
        if self.quiet_hours is None:
            return None
        start, end = self.quiet_hours
        local = now.astimezone(ZoneInfo(self.timezone))
        t = local.time().replace(tzinfo=None)
        quiet = start <= t < end if start < end else (t >= start or t < end)
        if not quiet:
            return None
        until = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
        return until if until > local else until + timedelta(days=1)

    def next_digest_at(self, now: datetime) -> datetime:
        """When the digest holding an alert queued at ``now`` is sent (the next slot after now)."""
        local = now.astimezone(ZoneInfo(self.timezone))
        if self.mode == "hourly":
            return local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        at = self.daily_at or time(8, 0)
        slot = datetime.combine(local.date(), at, tzinfo=local.tzinfo)
        return slot if slot > local else slot + timedelta(days=1)


_HOST = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z0-9-]+(?::\d{1,5})?$|^localhost(?::\d{1,5})?$", re.I)


def label_for(url: str, dest_id: str) -> str:
    """'json://127.0.0.1:8000 #1a2b3c': scheme and host only, and the host only when it looks like
    one (in tgram://, discord://, ... the first part of the URL is a token)."""
    scheme, _, rest = url.partition("://")
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    host = netloc if _HOST.match(netloc) else "***"
    return f"{scheme.lower()}://{host} #{dest_id[:6]}"


def destination_id(url: str) -> str:
    """A stable id for a URL that does not reveal it."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def _where(settings: Settings) -> Path:
    return settings.config_dir / "settings.yaml"


def _fail(settings: Settings, key: str, what: str) -> ConfigError:
    return ConfigError(f"{_where(settings)}: notify.{key}: expected {what}")


def _clock(raw: str, settings: Settings, key: str) -> time:
    m = _CLOCK.match(raw.strip())
    if not m:
        raise _fail(settings, key, f"a time HH:MM, got {raw!r}")
    return time(int(m.group(1)), int(m.group(2)))


def _words(raw: Any, settings: Settings, key: str) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise _fail(settings, key, f"a list of names, got {raw!r}")
    return frozenset(raw)


def _apply(rule: dict[str, Any], base: dict[str, Any], settings: Settings, where: str) -> dict[str, Any]:
    """``base`` with the keys of one rule applied, each checked."""
    out = dict(base)
    for key, raw in rule.items():
        name = f"{where}{key}"
        if key == "format":
            if raw not in FORMATS:
                raise _fail(settings, name, f"one of {', '.join(FORMATS)}, got {raw!r}")
            out["fmt"] = raw
        elif key == "max_per_hour":
            if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
                raise _fail(settings, name, f"a whole number >= 0, got {raw!r}")
            out["max_per_hour"] = raw
        elif key == "quiet_hours":
            if raw in (None, ""):
                out["quiet_hours"] = None
            elif not isinstance(raw, str) or raw.count("-") != 1:
                raise _fail(settings, name, f"'HH:MM-HH:MM' or empty, got {raw!r}")
            else:
                start, end = (_clock(x, settings, name) for x in raw.split("-"))
                out["quiet_hours"] = None if start == end else (start, end)
        elif key == "digest":
            text = "" if raw is None else str(raw).strip().lower()
            if text in ("", "immediate", "none", "off", "false"):
                out.update(mode="immediate", daily_at=None)
            elif text == "hourly":
                out.update(mode="hourly", daily_at=None)
            elif text.startswith("daily"):
                out.update(mode="daily", daily_at=_clock(text[5:].strip() or "08:00", settings, name))
            else:
                raise _fail(settings, name, f"'', 'hourly' or 'daily HH:MM', got {raw!r}")
        elif key == "kinds":
            kinds = _words(raw, settings, name)
            if not kinds <= KINDS:
                raise _fail(settings, name, f"kinds among {', '.join(sorted(KINDS))}, got {sorted(kinds)}")
            out["kinds"] = kinds
        elif key == "targets":
            out["targets"] = _words(raw, settings, name)
        elif key == "tags":
            out["tags"] = tuple(sorted(_words(raw, settings, name)))
        elif key == "language":
            if raw not in LANGUAGES:
                raise _fail(settings, name, f"one of {', '.join(LANGUAGES)}, got {raw!r}")
            out["language"] = raw
    return out


def _section(settings: Settings) -> dict[str, Any]:
    raw = settings.extra.get("notify") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{_where(settings)}: notify: expected a mapping")
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise _fail(settings, unknown[0], f"one of {', '.join(sorted(_TOP_KEYS))}")
    return raw


def destinations(settings: Settings) -> list[Destination]:
    """The destinations of ``settings`` (one per notify URL, or the console); ``ConfigError`` when
    the ``notify:`` section is wrong."""
    raw = _section(settings)
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{_where(settings)}: timezone: unknown time zone {settings.timezone!r}") from None
    folder = raw.get("templates", "templates")
    if not isinstance(folder, str):
        raise _fail(settings, "templates", "a directory name")
    base: dict[str, Any] = {"timezone": settings.timezone, "templates": settings.config_dir / folder,
                            "language": settings.language}
    base = _apply({k: v for k, v in raw.items() if k in _RULE_KEYS}, base, settings, "")
    rules = raw.get("destinations") or []
    if not isinstance(rules, list):
        raise _fail(settings, "destinations", "a list of rules with 'match'")
    checked: list[tuple[str, dict[str, Any]]] = []
    for i, rule in enumerate(rules):
        where = f"destinations[{i}]."
        if not isinstance(rule, dict) or not isinstance(rule.get("match"), str) or not rule["match"]:
            raise _fail(settings, f"{where}match", "a text the destination's URL contains")
        unknown = sorted(set(rule) - _RULE_KEYS - _DEST_KEYS)
        if unknown:
            raise _fail(settings, f"{where}{unknown[0]}", f"one of {', '.join(sorted(_RULE_KEYS | _DEST_KEYS))}")
        body = {k: v for k, v in rule.items() if k != "match"}
        checked.append((rule["match"], _apply(body, base, settings, where)))
    if not settings.notify_urls:
        console = {**base, "mode": "immediate", "daily_at": None, "max_per_hour": 0, "quiet_hours": None,
                   "fmt": "text"}
        return [Destination(id=CONSOLE_ID, label="console", **console)]
    out: list[Destination] = []
    for url in dict.fromkeys(settings.notify_urls):  # the same URL twice is one destination
        options = next((opts for match, opts in checked if match in url), base)
        dest_id = destination_id(url)
        out.append(Destination(id=dest_id, label=label_for(url, dest_id), url=url, **options))
    return out


def by_id(settings: Settings) -> dict[str, Destination]:
    """The destinations of ``settings`` keyed by id."""
    return {d.id: d for d in destinations(settings)}
