"""The channels' I/O: e-mail through the standard library's smtplib, bot webhooks signed like the CRM's.

Bot webhook request (JSON, UTF-8), accepted as is by WeCom/DingTalk-style group bots (`msgtype`/`text`):

    POST <url>
    Content-Type: application/json
    X-SZ-Timestamp: <unix seconds>
    X-SZ-Signature: sha256=<hex HMAC-SHA256(key, "<timestamp>.<body>")>
    Idempotency-Key: <notification key>        (the same on every retry: receivers drop repeats)
    X-SZ-Event: <kind>

    {"msgtype": "text", "text": {"content": "<zh title>\\n<zh body>\\n\\n<en title>\\n<en body>\\n<link>"},
     "notification": {"id", "key", "kind", "branch", "team", "severity", "level", "title": {"zh","en"},
                      "body": {"zh","en"}, "link", "created_at"}}
"""

from __future__ import annotations

import contextlib
import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from server.notifications.config import Smtp
from server.notifications.models import Notification
from server.webhooks.service import post, sign

TIMEOUT_S = 10.0


class Mailer:
    """One SMTP connection for a run of deliveries, opened on first use."""

    def __init__(self, smtp: Smtp):
        self.smtp = smtp
        self._conn: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.smtp
        if s.security == "tls":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT_S,
                                                  context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_S)
            if s.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
        if s.username:
            conn.login(s.username, s.password or "")
        return conn

    def send(self, note: Notification, to: str, link: str | None, delivery_id: int) -> None:
        """Raises smtplib.SMTPException or OSError when the server does not take it."""
        if self._conn is None:
            self._conn = self._open()
        msg = EmailMessage()
        msg["From"] = self.smtp.sender
        msg["To"] = to
        msg["Subject"] = f"[smartzone] {note.title_zh} / {note.title_en}"
        msg["Date"] = formatdate(note.created_at.timestamp())
        domain = self.smtp.sender.rpartition("@")[2] or "smartzone"
        msg["Message-ID"] = f"<notification-{note.id}-{delivery_id}@{domain}>"  # the same on every retry
        msg["X-SZ-Notification"] = note.key
        msg.set_content(text(note, link))
        self._conn.send_message(msg)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._conn.quit()
            self._conn = None


def text(note: Notification, link: str | None) -> str:
    """Both languages, Chinese first."""
    return "\n".join(filter(None, [note.title_zh, note.body_zh, "", note.title_en, note.body_en, link or ""]))


def webhook_body(note: Notification, link: str | None) -> bytes:
    return json.dumps({
        "msgtype": "text", "text": {"content": text(note, link)},
        "notification": {"id": note.id, "key": note.key, "kind": note.kind, "branch": note.branch_id,
                         "team": note.team, "severity": note.severity, "level": note.level,
                         "title": {"zh": note.title_zh, "en": note.title_en},
                         "body": {"zh": note.body_zh, "en": note.body_en}, "link": link,
                         "created_at": note.created_at.isoformat()},
    }, ensure_ascii=False, separators=(",", ":")).encode()


def send_webhook(url: str, secret: str, note: Notification, link: str | None, now_ts: int) -> int:
    """POST the signed body; the HTTP status (OSError when the bot cannot be reached)."""
    body = webhook_body(note, link)
    ts = str(now_ts)
    return post(url, body, {"Content-Type": "application/json", "X-SZ-Timestamp": ts,
                            "X-SZ-Signature": sign(secret, ts, body), "Idempotency-Key": note.key,
                            "X-SZ-Event": note.kind})
