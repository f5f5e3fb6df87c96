"""The one safe-relative-path rule, for every path a user hands Studio: archive entries of code
and build contexts, datastore paths, asset paths, job inputs and outputs.

A path is relative, uses "/" between folders, and can never climb out of where it is put:
absolute paths, drive letters, `~`, `..`, backslashes (ambiguous: a folder separator on Windows,
a file-name character elsewhere) and control characters are refused rather than guessed at.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

MAX_PATH = 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


def clean_relative_path(path: str | None, *, field: str = "path", what: str = "path") -> str:
    """ "a/b/c" (or "" for the root) from `path`, or a ValidationError on `field` that names the
    path as `what` ("archive entry", "path in the build context" …)."""
    raw = "" if path is None else str(path)

    def refuse(message: str) -> ValidationError:
        return ValidationError({field: [f"The {what} {raw[:200]!r} {message}"]})

    if len(raw) > MAX_PATH:
        raise ValidationError({field: [f"The {what} is longer than {MAX_PATH} characters."]})
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise refuse("contains control characters.")
    if "\\" in raw:
        raise refuse("contains a backslash: use '/' to separate folders.")
    if raw.startswith(("/", "~")) or _DRIVE.match(raw):
        raise refuse("is an absolute path: give a path relative to its folder.")
    parts = []
    for part in raw.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise refuse("leaves its folder: '..' is not allowed.")
        if len(part) > 255:
            raise refuse("has a name longer than 255 characters.")
        parts.append(part)
    return "/".join(parts)
