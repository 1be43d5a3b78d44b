"""The id rule: branch, device, zone, business and event-type ids travel in MQTT topics, so they are
lower-case ASCII, start with a letter or digit, and are at most 32 characters. Written once, here."""

import re
from typing import Annotated

from pydantic import StringConstraints

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
ID_RE = re.compile(ID_PATTERN)

Ident = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def is_id(value: str) -> bool:
    """True when value may be a branch, device or event-type id (see the module's rule)."""
    return bool(ID_RE.match(value))
