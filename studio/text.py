"""Small text helpers shared by pages, logs and runners (no view or template code here)."""

from __future__ import annotations

import re

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    """Terminal colour codes (docker and uv write them) read as noise in an HTML page or a
    failure reason."""
    return ANSI_ESCAPE.sub("", str(text))
