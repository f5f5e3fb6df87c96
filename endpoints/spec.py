"""Checks of Azure ML's managedOnlineEndpoint / managedOnlineDeployment fields, each failure a
ValidationError on its field (HTTP 400 with field messages)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

# Azure's rule: 3-32 characters, a letter first, letters, digits and hyphens, no trailing hyphen.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]$")
AUTH_MODES = ("key", "aml_token")
MAX_INSTANCES = 8


def _err(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def check_name(name: Any, field: str = "name") -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise _err(
            field, "A name is 3-32 letters, digits or hyphens, starting with a letter and not ending with a hyphen."
        )
    return name


def check_auth_mode(value: Any) -> str:
    if value not in AUTH_MODES:
        raise _err("auth_mode", f"auth_mode is one of {', '.join(AUTH_MODES)}, not {value!r}.")
    return value


def check_traffic(traffic: Any, deployments: set[str]) -> dict[str, int]:
    """`{deployment: percent}`: whole percents naming existing deployments, summing to 100 (or to 0,
    which sends no traffic anywhere)."""
    if not isinstance(traffic, dict):
        raise _err("traffic", "traffic maps deployment names to percents, e.g. {blue: 90, green: 10}.")
    out: dict[str, int] = {}
    for name, share in traffic.items():
        if name not in deployments:
            have = ", ".join(sorted(deployments)) or "none yet"
            raise _err("traffic", f"traffic names the deployment {name!r}, which this endpoint does not have ({have}).")
        if isinstance(share, bool) or not isinstance(share, int) or not 0 <= share <= 100:
            raise _err("traffic", f"The share of {name} must be a whole percent from 0 to 100, not {share!r}.")
        out[name] = share
    total = sum(out.values())
    if total not in (0, 100):
        raise _err("traffic", f"The traffic shares must add up to 100; these add up to {total}.")
    return out


def check_instance_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_INSTANCES:
        raise _err("instance_count", f"instance_count is a whole number from 1 to {MAX_INSTANCES}.")
    return value


def check_environment_variables(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k) for k in value
    ):
        raise _err("environment_variables", "environment_variables maps variable names to values.")
    return {k: str(v) for k, v in value.items()}


def code_configuration(value: Any) -> tuple[Any, str]:
    if not isinstance(value, dict) or "code" not in value or not value.get("scoring_script"):
        raise _err("code_configuration", "code_configuration needs code (a code id) and scoring_script (a path in it).")
    script = value["scoring_script"]
    if not isinstance(script, str) or not script.endswith(".py"):
        raise _err("code_configuration", f"scoring_script must be a .py file, not {script!r}.")
    return value["code"], script


MAX_MIRROR_PERCENT = 50


def check_mirror_traffic(mirror: Any, deployments: set[str], traffic: dict[str, int]) -> dict[str, int]:
    """`{deployment: percent}` copied to a shadow deployment (Azure's rules): one deployment at
    most, a whole percent up to 50, and not one that takes live traffic."""
    if not isinstance(mirror, dict):
        raise _err("mirror_traffic", "mirror_traffic maps one deployment name to a percent, e.g. {green: 10}.")
    out = {name: share for name, share in mirror.items() if share != 0}
    if len(out) > 1:
        raise _err("mirror_traffic", "mirror_traffic copies requests to one deployment only.")
    for name, share in out.items():
        if name not in deployments:
            have = ", ".join(sorted(deployments)) or "none yet"
            raise _err(
                "mirror_traffic",
                f"mirror_traffic names the deployment {name!r}, which this endpoint does not have ({have}).",
            )
        if isinstance(share, bool) or not isinstance(share, int) or not 0 < share <= MAX_MIRROR_PERCENT:
            raise _err(
                "mirror_traffic", f"The mirrored share of {name} is a whole percent from 0 to 50, not {share!r}."
            )
        if traffic.get(name):
            raise _err(
                "mirror_traffic",
                f"{name} takes {traffic[name]}% of the live traffic: mirror to a deployment that takes none.",
            )
    return out
