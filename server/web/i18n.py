"""Console translations: zh-CN and English message catalogues, merged from the core and each domain.

Core messages live in server/web/locales/<locale>.json. A domain adds its own with
`register_messages({"en": {...}, "zh-CN": {...}})` at import time (keys prefixed by the domain).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
LANG_COOKIE = "sz_lang"
_DIR = Path(__file__).parent / "locales"
_catalogues: dict[str, dict[str, str]] = {
    loc: json.loads((_DIR / f"{loc}.json").read_text("utf-8")) for loc in LOCALES
}


def register_messages(messages: dict[str, dict[str, str]]) -> None:
    """Add (or override) messages; every key should exist in both locales."""
    for loc, entries in messages.items():
        if loc not in _catalogues:
            raise ValueError(f"unknown locale {loc!r}; known: {', '.join(LOCALES)}")
        _catalogues[loc].update(entries)


def normalise(value: str | None) -> str | None:
    """Map 'en-US', 'zh', 'zh-Hans-CN' … onto a supported locale, or None."""
    if not value:
        return None
    v = value.strip().lower()
    if v.startswith("zh"):
        return "zh-CN"
    if v.startswith("en"):
        return "en"
    return None


def negotiate(accept_language: str | None) -> str:
    for part in (accept_language or "").split(","):
        if loc := normalise(part.split(";")[0]):
            return loc
    return DEFAULT_LOCALE


def translate(locale: str, key: str, **params: Any) -> str:
    """The message in `locale` (falling back to English, then the key itself), formatted with params."""
    text = _catalogues.get(locale, {}).get(key) or _catalogues["en"].get(key) or key
    return text.format(**params) if params else text


def catalogue(locale: str) -> dict[str, str]:
    return dict(_catalogues.get(locale, _catalogues[DEFAULT_LOCALE]))


def missing_keys() -> dict[str, list[str]]:
    """Keys present in one locale but not in another (a test keeps this empty)."""
    keys = set().union(*(_catalogues[loc] for loc in LOCALES))
    return {loc: sorted(keys - set(_catalogues[loc])) for loc in LOCALES if keys - set(_catalogues[loc])}
