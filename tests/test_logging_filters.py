from __future__ import annotations

import logging

from hyperdesk.logging_filters import RedactTokens


def test_tokens_in_access_log_lines_are_redacted():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/ws?token=eyJhbGciOi.secret.part&x=1", "1.1", 101),
        None,
    )
    RedactTokens().filter(record)
    line = record.getMessage()
    assert "eyJhbGciOi" not in line
    assert "/api/ws?token=***&x=1" in line
