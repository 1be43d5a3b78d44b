"""Names and numbers are masked wherever a screen shows them."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """`王小明` → `王*明`, `王明` → `王*`, `John Smith` → `J*** S****`; already masked names pass through."""
    name = name.strip()
    if not name or "*" in name:
        return name
    if name.isascii():
        return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_number(number: str, head: int = 0, tail: int = 4) -> str:
    """Digits hidden except `head` first and `tail` last ones."""
    digits = "".join(ch for ch in number if ch.isalnum())
    if len(digits) <= head + tail:
        return "*" * len(digits)
    return digits[:head] + "*" * (len(digits) - head - tail) + digits[len(digits) - tail:]
