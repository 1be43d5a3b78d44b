"""Identifier rules shared by config, topics and the database."""

import re
from typing import Annotated

from pydantic import StringConstraints

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
ID_RE = re.compile(ID_PATTERN)

# Branch, device, zone and business ids travel in MQTT topics: lower-case ASCII only.
Ident = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
