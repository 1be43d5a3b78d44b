"""The one family of domain errors: what a domain refuses and why, with no HTTP in it.

`code` is stable for machines (clients switch on it), `message` is for people. The kind of refusal is the
subclass; the web layer alone maps kinds to HTTP statuses (server/web/errors.py), so a domain function reads
the same whether the HTTP API, a console page, the hub or a job called it.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses. Subclass by kind; never raise this class itself."""

    def __init__(self, code: str, message: str, *, retry_after_s: int | None = None):
        super().__init__(message)
        self.code, self.message, self.retry_after_s = code, message, retry_after_s

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class NotFound(DomainError):
    """The object does not exist, or not where the caller may see it."""


class Conflict(DomainError):
    """The object exists but its state does not allow this now (a ticket already called, a lead closed)."""


class Invalid(DomainError):
    """The request itself is wrong for the domain (an unknown business, a counter that cannot serve it)."""


class Forbidden(DomainError):
    """The caller may not do this (a rule of the domain, not a missing login)."""


class Unauthenticated(DomainError):
    """The caller is not who they claim to be (a wrong username or password)."""


class TryLater(DomainError):
    """Refused for a while (an account locked after failed sign-ins); `retry_after_s` says how long."""
