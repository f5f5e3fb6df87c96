"""What can go wrong reading a member's zip, said in words.

`zipfile` raises more than BadZipFile on hostile archives: RuntimeError for an encrypted entry,
NotImplementedError for an unknown compression method, BadZipFile for a wrong CRC or size, zlib
and lzma errors for a damaged stream, EOFError for a cut one. Each reader of an upload catches
READ_ERRORS and raises `unreadable(...)` (a ValidationError: HTTP 400 / a form error), never a 500.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib

from django.core.exceptions import ValidationError

READ_ERRORS = (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, zlib.error, lzma.LZMAError)


def unreadable(exc: BaseException, *, field: str, name: str = "") -> ValidationError:
    """A ValidationError on `field` saying why the zip (or its entry `name`) cannot be read."""
    entry = f"The zip entry {name!r}" if name else "The zip"
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc):
        why = "is encrypted; upload a zip without a password"
    elif isinstance(exc, NotImplementedError):
        why = "uses a compression method Studio cannot read; use stored or deflate (any zip tool's default)"
    else:
        why = "is damaged (its data does not match its checksum or size)"
    return ValidationError({field: [f"{entry} {why}."]})
