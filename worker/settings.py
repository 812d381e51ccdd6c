"""The only reader of the environment and of ``settings.yaml`` / ``sources.yaml``.

``load_settings()`` returns one frozen ``Settings`` that is passed down to every stage. A broken
configuration raises ``ConfigError`` with one message naming the file, the key and what was
expected. Secrets (notification URLs, database passwords) come from the environment only and are
never printed: ``redact()`` hides them in anything that goes to a log or an error message.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from worker.errors import ConfigError
from worker.model import Source, SourceKind

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENV_CONFIG = "POLICYWATCH_CONFIG"
ENV_DATA_DIR = "POLICYWATCH_DATA_DIR"
ENV_DATABASE_URL = "POLICYWATCH_DATABASE_URL"
ENV_NOTIFY_URLS = "POLICYWATCH_NOTIFY_URLS"
ENV_ALLOW_PRIVATE = "POLICYWATCH_ALLOW_PRIVATE_HOSTS"
ENV_LANGUAGE = "POLICYWATCH_LANGUAGE"
ENV_NAVER_ID = "NAVER_CLIENT_ID"
ENV_NAVER_SECRET = "NAVER_CLIENT_SECRET"

DEFAULT_USER_AGENT = "policywatch/0.1 (+https://github.com/policywatch/policywatch; news monitoring)"


@dataclass(frozen=True)
class FetchSettings:
    timeout_seconds: float = 20.0
    max_bytes: int = 10 * 1024 * 1024  # a news page is < 1 MB; 10 MB leaves room for big feeds
    max_redirects: int = 5
    per_host_concurrency: int = 2
    per_host_delay_seconds: float = 1.0  # minimum gap between two requests to one host
    respect_robots: bool = True
    user_agent: str = DEFAULT_USER_AGENT
    min_interval_minutes: int = 5
    max_interval_minutes: int = 240
    max_entries_per_pass: int = 50  # per source; the rest waits for the next pass
    sources_at_once: int = 8  # sources polled side by side in a pass (their hosts' latency overlaps)


@dataclass(frozen=True)
class DeliverySettings:
    max_attempts: int = 8
    backoff_base_seconds: float = 30.0  # 30 s, 60 s, 2 min, ... capped below
    backoff_max_seconds: float = 6 * 3600.0
    timeout_seconds: float = 20.0


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    data_dir: Path
    database_url: str
    seeds_dir: Path
    sources: tuple[Source, ...] = ()
    notify_urls: tuple[str, ...] = ()
    allow_private_hosts: tuple[str, ...] = ()
    language: str = "ko"  # of alerts and digests: "ko" or "en"
    timezone: str = "Asia/Seoul"
    fetch: FetchSettings = field(default_factory=FetchSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    naver_client_id: str = ""
    naver_client_secret: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # settings.yaml sections owned by stages


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(part for part in re.split(r"[\s,]+", value.strip()) if part)


def _split_urls(value: str) -> tuple[str, ...]:
    """URLs separated by whitespace, or by commas where the next URL begins (``?to=a@x,b@y`` stays)."""
    return tuple(part.strip(",") for part in re.split(r"\s+|,(?=\s*[a-zA-Z][a-zA-Z0-9+.-]*://)", value.strip())
                 if part.strip(","))


def default_config_dir() -> Path:
    """``config/`` of the working directory when it has one, else the project's own."""
    here = Path.cwd() / "config"
    return here if (here / "sources.yaml").exists() else PROJECT_ROOT / "config"


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; ``ConfigError`` naming the file when it is unreadable."""
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _expect(cond: bool, path: Path, key: str, what: str) -> None:
    if not cond:
        raise ConfigError(f"{path}: {key}: expected {what}")


def _int(value: Any, path: Path, key: str, low: int, high: int) -> int:
    _expect(isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
            path, key, f"a whole number from {low} to {high}, got {value!r}")
    return int(value)


def parse_sources(data: Any, path: Path) -> tuple[Source, ...]:
    """Turn the YAML of ``sources.yaml`` into ``Source`` values, or raise ``ConfigError``."""
    _expect(isinstance(data, dict) and "sources" in data, path, "sources",
            "a top-level 'sources:' list")
    items = data["sources"] or []
    _expect(isinstance(items, list), path, "sources", "a list of sources")
    defaults = data.get("defaults") or {}
    _expect(isinstance(defaults, dict), path, "defaults", "a mapping")
    seen: set[str] = set()
    out: list[Source] = []
    for i, item in enumerate(items):
        where = f"sources[{i}]"
        _expect(isinstance(item, dict), path, where, "a mapping with at least 'name' and 'url'")
        name, url = item.get("name"), item.get("url")
        _expect(isinstance(name, str) and name.strip() != "", path, f"{where}.name", "a non-empty text")
        where = f"sources[{i}] ({name})"
        _expect(name not in seen, path, f"{where}.name", "a name used only once")
        seen.add(name)
        kind_raw = str(item.get("kind", defaults.get("kind", "rss"))).lower()
        if kind_raw in ("atom", "feed"):
            kind_raw = "rss"
        _expect(kind_raw in {k.value for k in SourceKind}, path, f"{where}.kind",
                f"one of {', '.join(k.value for k in SourceKind)}, got {kind_raw!r}")
        kind = SourceKind(kind_raw)
        if kind is not SourceKind.NAVER:
            _expect(isinstance(url, str) and re.match(r"^https?://[^\s/]+", url or "") is not None,
                    path, f"{where}.url", f"an http:// or https:// URL, got {url!r}")
        interval = _int(item.get("interval_minutes", defaults.get("interval_minutes", 30)),
                        path, f"{where}.interval_minutes", 1, 7 * 24 * 60)
        query = item.get("query", "")
        _expect(isinstance(query, str), path, f"{where}.query", "a text")
        if kind is SourceKind.NAVER:
            _expect(bool(query), path, f"{where}.query", "the search keywords of a naver source")
        out.append(Source(name=name.strip(), url=str(url or ""), kind=kind, interval_minutes=interval,
                          outlet=str(item.get("outlet", "") or ""),
                          enabled=bool(item.get("enabled", True)), query=query))
    return tuple(out)


def _fetch_settings(raw: Any, path: Path) -> FetchSettings:
    if raw is None:
        return FetchSettings()
    _expect(isinstance(raw, dict), path, "fetch", "a mapping")
    base = FetchSettings()
    known = set(base.__dataclass_fields__)
    unknown = set(raw) - known
    _expect(not unknown, path, f"fetch.{sorted(unknown)[0] if unknown else ''}",
            f"one of {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        default = getattr(base, key)
        ok = isinstance(value, type(default)) or (isinstance(default, float) and isinstance(value, int))
        _expect(ok and not isinstance(value, bool) or isinstance(default, bool),
                path, f"fetch.{key}", f"a {type(default).__name__}, got {value!r}")
        values[key] = type(default)(value)
    _expect(values.get("sources_at_once", 1) >= 1, path, "fetch.sources_at_once", "a whole number from 1")
    return FetchSettings(**values)


def _delivery_settings(raw: Any, path: Path) -> DeliverySettings:
    if raw is None:
        return DeliverySettings()
    _expect(isinstance(raw, dict), path, "delivery", "a mapping")
    base = DeliverySettings()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        _expect(key in base.__dataclass_fields__, path, f"delivery.{key}",
                f"one of {', '.join(base.__dataclass_fields__)}")
        _expect(isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0,
                path, f"delivery.{key}", f"a positive number, got {value!r}")
        values[key] = type(getattr(base, key))(value)
    return DeliverySettings(**values)


def load_settings(env: Mapping[str, str] | None = None, *, config_dir: Path | None = None) -> Settings:
    """Read the environment and the configuration directory into one ``Settings``."""
    env = os.environ if env is None else env
    cfg = Path(config_dir or env.get(ENV_CONFIG) or default_config_dir()).expanduser()
    if not cfg.is_dir():
        raise ConfigError(f"{cfg}: configuration directory not found (set {ENV_CONFIG})")
    data_dir = Path(env.get(ENV_DATA_DIR) or Path.cwd() / "data").expanduser()
    database_url = env.get(ENV_DATABASE_URL) or f"sqlite:///{data_dir / 'policywatch.db'}"
    sources_path = cfg / "sources.yaml"
    sources = parse_sources(read_yaml(sources_path), sources_path)

    settings_path = cfg / "settings.yaml"
    general: dict[str, Any] = {}
    if settings_path.exists():
        raw = read_yaml(settings_path) or {}
        _expect(isinstance(raw, dict), settings_path, "(top level)", "a mapping")
        general = raw
    language = str(env.get(ENV_LANGUAGE) or general.get("language", "ko")).lower()
    _expect(language in ("ko", "en"), settings_path, "language", f"'ko' or 'en', got {language!r}")
    seeds = general.get("seeds_dir")
    seeds_dir = (cfg / seeds) if seeds else PROJECT_ROOT / "seeds"
    if not seeds_dir.is_dir() and (Path.cwd() / "seeds").is_dir():
        seeds_dir = Path.cwd() / "seeds"
    return Settings(
        config_dir=cfg,
        data_dir=data_dir,
        database_url=database_url,
        seeds_dir=seeds_dir,
        sources=sources,
        notify_urls=_split_urls(env.get(ENV_NOTIFY_URLS, "")),
        allow_private_hosts=_split_list(env.get(ENV_ALLOW_PRIVATE, "")),
        language=language,
        timezone=str(general.get("timezone", "Asia/Seoul")),
        fetch=_fetch_settings(general.get("fetch"), settings_path),
        delivery=_delivery_settings(general.get("delivery"), settings_path),
        naver_client_id=env.get(ENV_NAVER_ID, ""),
        naver_client_secret=env.get(ENV_NAVER_SECRET, ""),
        extra={k: v for k, v in general.items()
               if k not in ("language", "timezone", "fetch", "delivery", "seeds_dir")},
    )


_SECRET_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<rest>[^\s'\"<>]+)")


def redact(text: str) -> str:
    """Hide credentials and tokens of every URL in ``text``: web URLs keep host and path, others
    (apprise's slack://, tgram://, mailto:// ...) only their scheme and a host name."""
    def repl(m: re.Match[str]) -> str:
        scheme, rest = m.group("scheme"), m.group("rest")
        netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
        tail = rest[len(netloc):]
        host = netloc.rsplit("@", 1)[1] if "@" in netloc else netloc
        if scheme.lower() in ("http://", "https://"):
            return scheme + host + re.split(r"[?#]", tail, maxsplit=1)[0]
        if not re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?|\d+\.\d+\.\d+\.\d+(:\d+)?|localhost(:\d+)?", host):
            host = "***"
        return f"{scheme}{host}/***" if tail or host == "***" or "@" in netloc else scheme + host
    return _SECRET_URL.sub(repl, text)
