"""Settings for tests of the collector: short timeouts, small caps, 127.0.0.1 allowed."""
from __future__ import annotations

from pathlib import Path

from worker.settings import FetchSettings, Settings

MB = 1024 * 1024


def make_settings(allow: tuple[str, ...] = ("127.0.0.1",), *, naver_client_id: str = "",
                  naver_client_secret: str = "", **fetch: object) -> Settings:
    """A ``Settings`` for fetch tests; ``fetch`` overrides fields of ``FetchSettings``."""
    values: dict[str, object] = dict(timeout_seconds=0.5, max_bytes=1 * MB, max_redirects=3,
                                     per_host_concurrency=2, per_host_delay_seconds=0.0)
    values.update(fetch)
    return Settings(config_dir=Path("."), data_dir=Path("."), database_url="sqlite://",
                    seeds_dir=Path("."), allow_private_hosts=allow,
                    naver_client_id=naver_client_id, naver_client_secret=naver_client_secret,
                    fetch=FetchSettings(**values))  # type: ignore[arg-type]
