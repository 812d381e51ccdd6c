"""Alert payload -> (title, body), through templates users can override.

A template is a file ``{kind}.{language}.{ext}`` (``figure.ko.txt``, ``position.en.md``,
``ops.ko.html``; ext ``txt`` for text, ``md`` for markdown, ``html`` for HTML) in the templates
directory (``config/templates/``). Its first line is the title, the rest the body. Fields are
written ``${name}`` (Python ``string.Template``); a line whose fields all come out empty is left
out, so optional lines need no conditionals. Field values are escaped for the format (HTML
entities, markdown punctuation). With no HTML template the text one is used, escaped, with
line breaks and a link. The fields are documented in ``config/templates/README.md``.
"""
from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from string import Template
from typing import Any

from worker.alerts import values as v
from worker.errors import ConfigError

#: The shipped templates live inside the package, so an installed wheel has them too; users
#: override them in ``config/templates/``.
DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "defaults" / "templates"
FORMATS = {"text": "txt", "markdown": "md", "html": "html"}
KINDS = ("figure", "position", "ops")

LABELS = {
    "ko": {"new": "신규", "changed": "변경", "failing": "장애", "recovered": "복구",
           "figure": "수치", "position": "입장", "ops": "운영", "digest": "policywatch 요약",
           "alerts": "건", "via_parent": "상위 주체({})의 기존 입장과 다름"},
    "en": {"new": "new", "changed": "changed", "failing": "failing", "recovered": "recovered",
           "figure": "figure", "position": "position", "ops": "operations",
           "digest": "policywatch digest", "alerts": " alerts",
           "via_parent": "differs from the known stance of {}"},
}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
_FIELD = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def fields(payload: Mapping[str, Any], *, language: str = "ko", timezone: str = "Asia/Seoul") -> dict[str, str]:
    """Every template field of one alert payload as plain (unescaped) text."""
    lang = language if language in LABELS else "ko"
    labels = LABELS[lang]
    article = payload.get("article") or {}
    prev = payload.get("previous") or {}
    kind, change = _text(payload.get("kind")), _text(payload.get("change"))
    out = {
        "kind": kind, "change": change, "kind_label": labels.get(kind, kind),
        "change_label": labels.get(change, change),
        "link": _text(article.get("url") or payload.get("source")),
        "article_title": _text(article.get("title")), "outlet": _text(article.get("outlet")),
        "published": v.when(article.get("published"), timezone),
        "sentence": _text(payload.get("sentence")).strip(),
        "previous_outlet": _text(prev.get("outlet")), "previous_source": _text(prev.get("source")),
        "previous_sentence": _text(prev.get("sentence")).strip(),
        "previous_date": v.when(prev.get("published") or prev.get("seen_at"), timezone, with_time=False),
    }
    out["byline"] = " · ".join(x for x in (out["outlet"], out["published"]) if x)
    origin = ", ".join(x for x in (out["previous_outlet"], out["previous_date"]) if x)
    where = f"{origin} — {out['previous_source']}" if origin and out["previous_source"] else \
        origin or out["previous_source"]
    if kind == "figure":
        out.update(_figure_fields(payload, prev, lang))
    elif kind == "position":
        out.update(_position_fields(payload, prev, lang))
    else:
        out.update(source_name=_text(payload.get("source_name")), message=_text(payload.get("message")),
                   what=_text(payload.get("message")), what_short=labels.get(change, change))
    previous_text = out.get("previous_value") or out.get("previous_stance") or ""
    out["previous_line"] = f"{previous_text} ({where})" if previous_text and where else where if prev else ""
    return out


def _figure_fields(p: Mapping[str, Any], prev: Mapping[str, Any], lang: str) -> dict[str, str]:
    new = v.quantity(p.get("value"), p.get("unit"), p.get("qualifier"), p.get("value_max"), lang)
    old = v.quantity(prev.get("value"), prev.get("unit"), prev.get("qualifier"), None, lang)
    eq = p.get("equivalent") or {}
    diff = "" if p.get("value_max") is not None else \
        v.difference(prev.get("value"), p.get("value"), prev.get("unit"), p.get("unit"), lang)
    what_short = f"{old} → {new}" if old else new
    return {"subject": _text(p.get("subject")), "metric": _text(p.get("metric")),
            "period": _text(p.get("period")), "replaces_period": _text(p.get("replaces_period")),
            "value": new, "previous_value": old, "difference": diff,
            "equivalent": v.quantity(eq.get("value"), eq.get("unit"), eq.get("qualifier"), None, lang),
            "what_short": what_short, "what": f"{what_short} ({diff})" if diff else what_short}


def _position_fields(p: Mapping[str, Any], prev: Mapping[str, Any], lang: str) -> dict[str, str]:
    new = v.stance(p.get("stance"), p.get("modality"), lang)
    old = v.stance(prev.get("stance"), prev.get("modality"), lang)
    parent = _text(p.get("via_parent"))
    what = f"{old} → {new}" if old else new
    return {"actor": _text(p.get("actor")), "target": _text(p.get("target")),
            "stance": new, "previous_stance": old,
            "previous_actor": _text(prev.get("actor")) if prev.get("actor") != p.get("actor") else "",
            "via_parent": LABELS[lang]["via_parent"].format(parent) if parent else "",
            "what_short": what, "what": what}


def _escape(value: str, fmt: str) -> str:
    if fmt == "html":
        return html.escape(value)
    if fmt == "markdown":
        return _MD_SPECIAL.sub(r"\\\1", value)
    return value


def fill(template: str, values: Mapping[str, str]) -> str:
    """Substitute ``${field}``s line by line, leaving out lines whose fields are all empty."""
    lines = []
    for line in template.splitlines():
        names = [a or b for a, b in _FIELD.findall(line)]
        if names and not any(values.get(n) for n in names):
            continue
        lines.append(Template(line).safe_substitute(values))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def load_template(kind: str, language: str, fmt: str, templates: Path | None = None) -> tuple[str, bool]:
    """The template text for kind/language/format and whether it is native to ``fmt``.

    Looks in ``templates`` first, then the shipped defaults; an HTML request falls back to the
    text template. Raises ``ConfigError`` when no template exists or one is unreadable.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"alert format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    wanted = [(FORMATS[fmt], True)] + ([("txt", False)] if fmt == "html" else [])
    for ext, native in wanted:
        for folder in (templates, DEFAULT_TEMPLATES):
            path = folder / f"{kind}.{language}.{ext}" if folder else None
            if path is not None and path.is_file():
                try:
                    return path.read_text(encoding="utf-8"), native
                except (OSError, UnicodeDecodeError) as exc:
                    raise ConfigError(f"{path}: cannot read template: {exc}") from None
    raise ConfigError(f"{templates or DEFAULT_TEMPLATES}: no template {kind}.{language}.{FORMATS[fmt]}")


def _split(filled: str) -> tuple[str, str]:
    title, _, body = filled.partition("\n")
    return title.strip(), body.strip("\n")


def render(payload: Mapping[str, Any], *, language: str = "ko", fmt: str = "text",
           templates: Path | None = None, timezone: str = "Asia/Seoul") -> tuple[str, str]:
    """(title, body) of one alert payload in ``language`` and ``fmt``; ``ConfigError`` on a bad template."""
    lang = language if language in LABELS else "ko"
    kind = payload.get("kind") if payload.get("kind") in KINDS else "ops"
    raw = fields(payload, language=lang, timezone=timezone)
    template, native = load_template(str(kind), lang, fmt, templates)
    if fmt == "html" and not native:
        title, body = _split(fill(template, raw))
        return title, _html_from_text(body, raw.get("link", ""))
    escaped = {k: _escape(val, fmt) if k != "link" else val for k, val in raw.items()}
    if fmt == "html":
        escaped["link"] = html.escape(raw.get("link", ""), quote=True)
    title, body = _split(fill(template, escaped))
    if fmt != "text":  # titles are plain text everywhere
        title, _ = _split(fill(template, raw))
    return title, body


def _html_from_text(body: str, link: str) -> str:
    lines = []
    for line in body.splitlines():
        safe = html.escape(line)
        if link and line.strip() == link:
            safe = f'<a href="{html.escape(link, quote=True)}">{html.escape(link)}</a>'
        lines.append(safe)
    return "<br>\n".join(lines)


def render_digest(payloads: Sequence[Mapping[str, Any]], *, language: str = "ko", fmt: str = "text",
                  templates: Path | None = None, timezone: str = "Asia/Seoul") -> tuple[str, str]:
    """One message for many alerts, grouped by target and kind, each with its title, change and link."""
    lang = language if language in LABELS else "ko"
    labels = LABELS[lang]
    groups: dict[tuple[str, str], list[tuple[str, dict[str, str]]]] = {}
    for payload in payloads:
        target = _text(payload.get("target") or payload.get("subject") or payload.get("source_name"))
        title, _ = render(payload, language=lang, fmt="text", templates=templates, timezone=timezone)
        key = (target, _text(payload.get("kind")))
        groups.setdefault(key, []).append((title, fields(payload, language=lang, timezone=timezone)))
    title = f"{labels['digest']}: {len(payloads)}{labels['alerts']}"
    blocks = []
    for (target, kind), items in groups.items():
        heading = f"{target} · {labels.get(kind, kind)} ({len(items)})" if target else \
            f"{labels.get(kind, kind)} ({len(items)})"
        lines = [_digest_heading(heading, fmt)]
        for item_title, f in items:
            lines.append(_digest_item(item_title, f, fmt))
        blocks.append("\n".join(lines))
    return title, ("<br>\n<br>\n" if fmt == "html" else "\n\n").join(blocks)


def _digest_heading(text: str, fmt: str) -> str:
    if fmt == "html":
        return f"<b>{html.escape(text)}</b>"
    return f"## {_escape(text, fmt)}" if fmt == "markdown" else f"■ {text}"


def _digest_item(title: str, f: Mapping[str, str], fmt: str) -> str:
    source = ", ".join(x for x in (f.get("outlet"), f.get("published")) if x)
    link = f.get("link", "")
    if fmt == "html":
        parts = [html.escape(title)] + ([html.escape(source)] if source else [])
        anchor = f' <a href="{html.escape(link, quote=True)}">{html.escape(link)}</a>' if link else ""
        return "<br>\n• " + " — ".join(parts) + anchor
    if fmt == "markdown":
        parts = [_escape(title, fmt)] + ([_escape(source, fmt)] if source else [])
        return "- " + " — ".join(parts) + (f" <{link}>" if link else "")
    parts = [title] + ([source] if source else [])
    return "• " + " — ".join(parts) + (f"\n  {link}" if link else "")
