"""Input types shared by every domain's schemas: strings the databases can store, ids with a shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, ConfigDict, StringConstraints

from wire.ids import ID_PATTERN

# Every request body model forbids unknown fields.
STRICT = ConfigDict(extra="forbid", str_strip_whitespace=False)

BRANCH_ID_PATTERN = ID_PATTERN
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$"
MAX_INT_ID = 2**31 - 1


def _storable(value: str) -> str:
    """Reject what PostgreSQL or SQLite cannot store (NUL, lone surrogates) with a clear message."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError("must be valid UTF-8 text") from err
    return value


def text(max_length: int, min_length: int = 0) -> object:
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length),
                     AfterValidator(_storable)]


Text100 = Annotated[str, StringConstraints(max_length=100), AfterValidator(_storable)]
Text200 = Annotated[str, StringConstraints(max_length=200), AfterValidator(_storable)]
BranchIdStr = Annotated[str, StringConstraints(pattern=BRANCH_ID_PATTERN)]
Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_storable)]

# Path parameters
BranchId = Annotated[str, Path(pattern=BRANCH_ID_PATTERN, description="branch id, e.g. b001")]
IntId = Annotated[int, Path(ge=1, le=MAX_INT_ID)]
