"""One safe-relative-path rule: the same paths are refused by code zips, build contexts and
datastore paths alike."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from datastores.paths import clean_path
from environments.context import safe_path
from jobs.code import clean_member_path
from studio.paths import clean_relative_path

REFUSED = {
    "a\\b.py": "backslash",
    "/etc/passwd": "absolute",
    "~/x": "absolute",
    "C:/windows/x.py": "absolute",
    "a/../../x": "'..' is not allowed",
    "a/\x00b": "control characters",
    "a/" + "x" * 256: "longer than 255",
}
CHECKS = [clean_relative_path, clean_path, safe_path, clean_member_path]


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f"{f.__module__}.{f.__name__}")
@pytest.mark.parametrize("path", sorted(REFUSED))
def test_every_path_check_refuses_the_same_paths(check, path):
    with pytest.raises(ValidationError) as raised:
        check(path)
    assert REFUSED[path] in " ".join(raised.value.messages)


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_every_path_check_normalises_the_same_way(check):
    assert check("./a//b/./c.py") == "a/b/c.py"
