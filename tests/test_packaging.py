"""What an installed wheel needs at run time lives inside the package (templates, migrations)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import worker
from worker.alerts.render import DEFAULT_TEMPLATES, FORMATS, KINDS
from worker.store.db import MIGRATIONS

PACKAGE = Path(worker.__file__).resolve().parent
ROOT = PACKAGE.parent


def test_runtime_files_are_package_data() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["worker"]
    shipped = {p for pattern in patterns for p in PACKAGE.glob(pattern)}
    for kind in KINDS:
        for language in ("ko", "en"):
            for ext in ("txt", "md"):
                path = DEFAULT_TEMPLATES / f"{kind}.{language}.{ext}"
                assert path in shipped, path
    assert set(MIGRATIONS.glob("versions/*.py")) <= shipped and MIGRATIONS / "env.py" in shipped
    assert "html" in FORMATS
