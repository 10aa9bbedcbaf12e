"""Keep tokens that travel in URL paths out of every log line."""

from __future__ import annotations

import logging
import re

# /login/link/<token>/, /password-reset/<uid>/<token>/, /invite/<uid>/<token>/
TOKEN_PATHS = re.compile(
    r"(?P<prefix>/login/link/|/password-reset/[^/\s]+/|/invite/[^/\s]+/)"
    r"(?!set-password/)(?P<token>[^/\s?\"']+)"
)


def redact(text: str) -> str:
    return TOKEN_PATHS.sub(lambda match: f"{match['prefix']}[redacted]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
