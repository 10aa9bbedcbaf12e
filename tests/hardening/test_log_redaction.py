"""Tokens that travel in URL paths never reach a log line, whichever logger writes the path."""

import logging

import pytest

from twofactor_site.log_filters import redact

TOKEN = "Zx9-abcDEF_0123456789abcdefghijklmnopqrstu"


@pytest.mark.parametrize(
    "path",
    [
        f"/login/link/{TOKEN}/",
        f"/password-reset/MQ/{TOKEN}/",
        f"/invite/Mw/{TOKEN}/",
    ],
)
@pytest.mark.parametrize("logger_name", ["django.server", "django.request", "root"])
def test_log_lines_never_carry_path_tokens(logger_name, path):
    logger = logging.getLogger(None if logger_name == "root" else logger_name)
    handlers = logger.handlers
    assert handlers, f"{logger_name} has no handler of ours"
    record = logger.makeRecord(
        logger.name, logging.WARNING, __file__, 1, '"GET %s HTTP/1.1" 302 0', (path,), None
    )
    for handler in handlers:
        assert handler.filter(record)
    assert TOKEN not in record.getMessage()
    assert "[redacted]" in record.getMessage()


def test_redaction_keeps_paths_without_tokens():
    for path in (
        "/login/link/",
        "/password-reset/sent/",
        "/password-reset/MQ/set-password/",
        "/invite/done/",
    ):
        assert redact(f"GET {path} 200") == f"GET {path} 200"
