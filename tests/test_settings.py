"""Configuration: the shipped config loads; broken files get one line naming file, key and expectation."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import CONFIG
from worker.claims.lexicon import load_lexicon
from worker.errors import ConfigError
from worker.settings import load_settings, redact


def test_shipped_configuration_loads() -> None:
    s = load_settings({}, config_dir=CONFIG)
    assert s.sources and all(src.url.startswith("https://") for src in s.sources)
    assert s.database_url.startswith("sqlite:///") and s.notify_urls == ()
    lex = load_lexicon(CONFIG)
    assert lex.target("DeepSeek") == "딥시크" and lex.entity("개보위").name == "개인정보보호위원회"


def test_environment_names(tmp_path: Path) -> None:
    env = {"POLICYWATCH_DATA_DIR": str(tmp_path), "POLICYWATCH_NOTIFY_URLS": "json://a/b, mailto://u:p@h?to=a@x,b@y  tgram://t/c",
           "POLICYWATCH_ALLOW_PRIVATE_HOSTS": "127.0.0.1,10.0.0.0/8", "POLICYWATCH_CONFIG": str(CONFIG)}
    s = load_settings(env)
    assert s.database_url == f"sqlite:///{tmp_path / 'policywatch.db'}"
    assert s.notify_urls == ("json://a/b", "mailto://u:p@h?to=a@x,b@y", "tgram://t/c")
    assert s.allow_private_hosts == ("127.0.0.1", "10.0.0.0/8")


def test_minimal_sources_file_is_complete(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    shutil.copytree(CONFIG, cfg)
    (cfg / "sources.yaml").write_text("sources:\n  - name: local-test\n    url: http://127.0.0.1:8080/feed.xml\n")
    (cfg / "settings.yaml").unlink()
    (src,) = load_settings({}, config_dir=cfg).sources
    assert (src.name, src.url, src.kind.value) == ("local-test", "http://127.0.0.1:8080/feed.xml", "rss")


BROKEN = [
    ("sources:\n  - name: a\n    url: rss.example.com\n", "sources[0] (a).url: expected an http:// or https:// URL"),
    ("sources:\n  - url: http://x/feed\n", "sources[0].name: expected a non-empty text"),
    ("sources:\n  - {name: a, url: 'http://x/1'}\n  - {name: a, url: 'http://x/2'}\n", "name used only once"),
    ("sources:\n  - {name: a, url: 'http://x/1', kind: gopher}\n", "sources[0] (a).kind: expected one of"),
    ("sources:\n  - {name: a, url: 'http://x/1', interval_minutes: 0}\n", "interval_minutes: expected a whole number"),
    ("feeds: []\n", "sources: expected a top-level 'sources:' list"),
    ("sources: [\n", "not valid YAML"),
]


@pytest.mark.parametrize(("text", "message"), BROKEN)
def test_broken_sources_file_names_file_key_and_expectation(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "cfg"
    shutil.copytree(CONFIG, cfg)
    (cfg / "sources.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings({}, config_dir=cfg)
    assert str(cfg / "sources.yaml") in str(err.value) and message in str(err.value)
    assert "\n" not in str(err.value)


def test_broken_lexicon_names_the_entity(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    shutil.copytree(CONFIG, cfg)
    (cfg / "lexicon" / "entities.yaml").write_text("entities:\n  - {name: 외교부, parent: 없는 정부}\n")
    with pytest.raises(ConfigError, match="외교부.parent: expected the name of another entity"):
        load_lexicon(cfg)


def test_redact_hides_credentials_and_tokens() -> None:
    text = redact("failed: mailtos://user:secret@smtp.example.com?to=a@b tgram://123456:ABCDEF/987 "
                  "https://example.com/news?token=abc")
    assert "secret" not in text and "ABCDEF" not in text and "token=abc" not in text
    assert "smtp.example.com" in text and "https://example.com/news" in text


def test_sources_at_once_is_read_and_checked(tmp_path: Path) -> None:
    assert load_settings({}, config_dir=CONFIG).fetch.sources_at_once == 8
    cfg = tmp_path / "config"
    shutil.copytree(CONFIG, cfg)
    path = cfg / "settings.yaml"
    shipped = path.read_text(encoding="utf-8")
    assert "sources_at_once: 8" in shipped
    path.write_text(shipped.replace("sources_at_once: 8", "sources_at_once: 3"), encoding="utf-8")
    assert load_settings({}, config_dir=cfg).fetch.sources_at_once == 3
    path.write_text(shipped.replace("sources_at_once: 8", "sources_at_once: 0"), encoding="utf-8")
    with pytest.raises(ConfigError, match="fetch.sources_at_once"):
        load_settings({}, config_dir=cfg)
