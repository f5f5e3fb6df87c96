"""Masking secrets in text (messages, log lines). No Django imports: logging loads this early."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, quote_plus

MASK = "***"
_PATTERNS = [
    (re.compile(r"(?i)(sig=)[^&\s\"'<>]+"), r"\1" + MASK),
    (re.compile(r"(?i)(AccountKey=)[^;\s\"'<>]+"), r"\1" + MASK),
    (re.compile(r"(?i)(SharedAccessSignature=)[^;\s\"'<>]+"), r"\1" + MASK),
    (re.compile(r"(?i)(secret_access_key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"), r"\1" + MASK),
]


def mask(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """`text` with every secret (and its URL-encoded forms) and SAS/key patterns replaced by ***."""
    text = str(text)
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        for form in {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}:
            text = text.replace(form, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class MaskSecrets(logging.Filter):
    """On the console handler: masks SAS signatures and account keys in every log line, in case a
    storage library ever puts one in a message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
