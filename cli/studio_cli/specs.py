"""Turning a YAML file into the JSON body the API takes: unknown keys refused (with file and line),
local files read (`conda_file`) or zipped (`build.path`, `code`), references passed through."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from studio_cli import schemas
from studio_cli.errors import SpecError
from studio_cli.refs import is_remote
from studio_cli.yamlfile import SpecFile, check_keys


@dataclass
class Prepared:
    """A request body plus the local folders that must be uploaded with it."""

    body: dict
    uploads: dict[str, Path] = field(default_factory=dict)  # what -> local folder or file


def plain(value):
    """LineDicts (and nested ones) as plain JSON-able values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _require_mapping(spec: SpecFile, parent: dict, key: str) -> dict:
    value = parent[key]
    if not isinstance(value, dict):
        raise SpecError(f"{spec.where(parent, key)}: {key} must be a mapping.")
    return value


def environment_body(spec: SpecFile, data: dict, keys: schemas.Keys, *, inline: bool = False) -> Prepared:
    """An environment definition: `conda_file` read as text, `build.path` to be zipped; its keys
    checked against the server's EnvironmentSpec (an inline one has no version)."""
    allowed = keys(schemas.ENVIRONMENT)
    if allowed is not None:
        check_keys(spec, data, allowed - {"version"} if inline else allowed, context="environment" if inline else "")
    body = {k: plain(v) for k, v in data.items() if k != "$schema"}
    uploads: dict[str, Path] = {}
    conda = data.get("conda_file")
    if isinstance(conda, dict):  # written inline in the YAML
        body["conda_file"] = yaml.safe_dump(plain(conda), sort_keys=False)
    elif isinstance(conda, str) and conda and not is_remote(conda):
        path = spec.local_path(data, "conda_file")
        if not path.is_file():
            raise SpecError(f"{spec.where(data, 'conda_file')}: conda_file {conda!r} is a folder, not a file.")
        body["conda_file"] = path.read_text(encoding="utf-8")
    if "build" in data:
        build = _require_mapping(spec, data, "build")
        build_keys = keys(schemas.ENVIRONMENT, "build")
        if build_keys is not None:
            check_keys(spec, build, build_keys, context="build")
        if not build.get("path") and not build.get("dockerfile"):
            raise SpecError(f"{spec.where(data, 'build')}: build needs a path (the Docker build context folder).")
        if build.get("path") and not is_remote(str(build["path"])):
            folder = spec.local_path(build, "path")
            if not folder.is_dir():
                raise SpecError(f"{spec.where(build, 'path')}: build path {build['path']!r} is not a folder.")
            dockerfile = build.get("dockerfile_path") or "Dockerfile"
            if not (folder / dockerfile).is_file():
                raise SpecError(f"{spec.where(build, 'path')}: no {dockerfile} in {folder}.")
            uploads["build"] = folder
    if body.get("version") is not None:
        body["version"] = str(body["version"])
    return Prepared(body=body, uploads=uploads)


def job_body(spec: SpecFile, data: dict, keys: schemas.Keys) -> Prepared:
    """A command job: `code` to be zipped, an inline environment resolved, inputs/outputs checked."""
    job_type = data.get("type", "command")
    if job_type == "sweep":
        return sweep_body(spec, data, keys)
    if job_type == "pipeline":
        return pipeline_body(spec, data, keys)
    if "commandComponent" in str(data.get("$schema", "")) or ("version" in data and "command" in data):
        raise SpecError(
            f"{spec.where(data, 'version' if 'version' in data else '$schema')}: this is a command component, "
            f"not a job: create it with `studio component create --file {spec.name}`, then use it in a pipeline "
            "(component: azureml:<name>@latest)."
        )
    allowed = keys(schemas.JOB)
    if allowed is not None:
        check_keys(spec, data, allowed)
    if job_type != "command":
        raise SpecError(
            f"{spec.where(data, 'type')}: Studio runs command, sweep and pipeline jobs; type {job_type!r} is not "
            "supported."
        )
    if not data.get("command"):
        raise SpecError(f"{spec.name}: a command job needs a `command`.")
    body = {k: plain(v) for k, v in data.items() if k != "$schema"}
    uploads: dict[str, Path] = {}
    code = data.get("code")
    if code is not None and not is_remote(str(code)):
        uploads["code"] = spec.local_path(data, "code")
        body.pop("code")
    env = data.get("environment")
    if isinstance(env, dict):
        inner = environment_body(spec, env, keys, inline=True)
        body["environment"] = inner.body
        if "build" in inner.uploads:
            uploads["environment.build"] = inner.uploads["build"]
    elif env is not None and not isinstance(env, str):
        raise SpecError(f"{spec.where(data, 'environment')}: environment must be a reference or a mapping.")
    for section in ("inputs", "outputs"):
        if section not in data or data[section] is None:
            continue
        entries = _require_mapping(spec, data, section)
        entry_keys = keys(schemas.JOB, section, "*")
        for name, entry in entries.items():
            if isinstance(entry, dict):
                if entry_keys is not None:
                    check_keys(spec, entry, entry_keys, context=f"{section}.{name}")
                path = entry.get("path")
                if section == "inputs" and path and not is_remote(str(path)):
                    uploads[f"inputs.{name}"] = spec.local_path(entry, "path")
    limit_keys = keys(schemas.JOB, "limits")
    if isinstance(data.get("limits"), dict) and limit_keys is not None:
        check_keys(spec, data["limits"], limit_keys, context="limits")
    return Prepared(body=body, uploads=uploads)


def sweep_body(spec: SpecFile, data: dict, keys: schemas.Keys) -> Prepared:
    """A sweep job: its trial's local `code` folder is zipped and sent with it; the server
    validates the rest (search space, objective, limits) and answers with the line at fault."""
    check_keys(spec, data, keys(schemas.SWEEP))
    trial = data.get("trial")
    if not isinstance(trial, dict):
        raise SpecError(f"{spec.where(data, 'trial')}: a sweep job needs a trial (command, environment, code).")
    check_keys(spec, trial, keys(schemas.SWEEP, "trial"), context="trial")
    if isinstance(data.get("limits"), dict):
        check_keys(spec, data["limits"], keys(schemas.SWEEP, "limits"), context="limits")
    body = {k: plain(v) for k, v in data.items() if k != "$schema"}
    uploads: dict[str, Path] = {}
    code = trial.get("code")
    if code is not None and not is_remote(str(code)):
        uploads["code"] = spec.local_path(trial, "code")
        body["trial"].pop("code")
    return Prepared(body=body, uploads=uploads)


def simple_body(spec: SpecFile, data: dict, allowed: set[str] | None) -> dict:
    """The file as a body; its keys checked against `allowed` (None: the server's document does
    not describe this asset, so the server alone checks)."""
    if allowed is not None:
        check_keys(spec, data, allowed)
    return {k: plain(v) for k, v in data.items() if k != "$schema"}


def report_notices(spec: SpecFile | None, answer: dict) -> None:
    """Print the server's notices (keys accepted but ignored), with the file and line of the key."""
    from studio_cli.output import info

    for notice in answer.pop("notices", None) or []:
        match = re.match(r"'([^']+)'(?: \(line \d+\))? is accepted", str(notice))
        if spec is not None and match and match[1] in getattr(spec.data, "lines", {}):
            notice = f"{spec.where(spec.data, match[1])}: {notice}"
        info(f"note: {notice}")


def as_json(body: dict) -> str:
    return json.dumps(body)


def component_body(spec: SpecFile, data: dict, keys: schemas.Keys) -> Prepared:
    """A command component file: its local `code` folder is zipped and sent with it."""
    check_keys(spec, data, keys(schemas.COMPONENT))
    for section in ("inputs", "outputs"):
        if isinstance(data.get(section), dict):
            entry_keys = keys(schemas.COMPONENT, section, "*")
            for name, entry in data[section].items():
                if isinstance(entry, dict):
                    check_keys(spec, entry, entry_keys, context=f"{section}.{name}")
    body = {k: plain(v) for k, v in data.items() if k != "$schema"}
    uploads: dict[str, Path] = {}
    code = data.get("code")
    if code is not None and not is_remote(str(code)):
        folder = spec.local_path(data, "code")
        if not folder.is_dir():
            raise SpecError(f"{spec.where(data, 'code')}: code {code!r} is not a folder.")
        uploads["code"] = folder
        body.pop("code")
    if body.get("version") is not None:
        body["version"] = str(body["version"])
    return Prepared(body=body, uploads=uploads)


def pipeline_body(spec: SpecFile, data: dict, keys: schemas.Keys) -> Prepared:
    """A pipeline job: each step's component file (`./train.yml`) is read and sent inline, and
    every local code folder is listed for upload: `jobs.<step>` (an inline command's code) or
    `jobs.<step>.component` / `jobs.<step>.trial` (a component file's code)."""
    check_keys(spec, data, keys(schemas.PIPELINE))
    if isinstance(data.get("settings"), dict):
        check_keys(spec, data["settings"], keys(schemas.PIPELINE, "settings"), context="settings")
    jobs = data.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        raise SpecError(
            f"{spec.where(data, 'jobs') if 'jobs' in data else spec.name}: a pipeline needs jobs (its steps)."
        )
    body = {k: plain(v) for k, v in data.items() if k != "$schema"}
    uploads: dict[str, Path] = {}
    for name, step in jobs.items():
        if not isinstance(step, dict):
            raise SpecError(f"{spec.where(jobs, name)}: step {name!r} must be a mapping.")
        step_schema = schemas.PIPELINE_SWEEP_STEP if step.get("type") == "sweep" else schemas.PIPELINE_STEP
        check_keys(spec, step, keys(step_schema), context=f"jobs.{name}")
        key = "trial" if step.get("type") == "sweep" else "component"  # a sweep step's trial is a component
        component = step.get(key)
        if isinstance(component, str) and _is_local_component(component):
            path = spec.local_path(step, key)
            inner = SpecFile(str(path))
            prepared = component_body(inner, inner.data, keys)
            body["jobs"][name][key] = prepared.body
            if "code" in prepared.uploads:
                uploads[f"jobs.{name}.{key}"] = prepared.uploads["code"]
        code = step.get("code")
        if component is None and code is not None and not is_remote(str(code)):
            uploads[f"jobs.{name}"] = spec.local_path(step, "code")
            body["jobs"][name].pop("code")
    return Prepared(body=body, uploads=uploads)


def _is_local_component(ref: str) -> bool:
    return not ref.startswith("azureml:") and (ref.startswith((".", "/", "file:")) or ref.endswith((".yml", ".yaml")))
