"""Conda environment files, read for what a PyPI installer can do with them.

The `venv` and `docker` backends install with uv, so a conda file's `dependencies` are
translated to pip requirements: conda's `name=1.2` (meaning 1.2.*) becomes `name==1.2.*`, conda
names that differ on PyPI are renamed (`pytorch` -> `torch`), packages that are not Python
packages (`cudatoolkit`, `mkl` ...) are skipped with a notice, the `pip:` list is taken as it is,
and `python=3.x` becomes the interpreter pin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from studio import yamlspec

CONDA_KEYS = {"name", "channels", "dependencies"}
CONDA_IGNORED = {"prefix", "variables"}

# conda-forge / defaults name -> PyPI name
RENAMES = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "matplotlib-base": "matplotlib",
    "py-opencv": "opencv-python-headless",
    "pytables": "tables",
    "msgpack-python": "msgpack",
    "pyqt": "PyQt5",
    "tensorflow-cpu": "tensorflow-cpu",
    "lightgbm": "lightgbm",
    "py-lightgbm": "lightgbm",
    "arrow": "arrow",
    "polars": "polars",
}

# Conda packages that are libraries or tools rather than Python packages: nothing to install.
NOT_PYTHON = {
    "cudatoolkit",
    "cuda-toolkit",
    "cudnn",
    "nccl",
    "cpuonly",
    "mkl",
    "mkl-service",
    "blas",
    "openblas",
    "libblas",
    "libcblas",
    "liblapack",
    "libgcc",
    "libgcc-ng",
    "libstdcxx-ng",
    "libgomp",
    "_libgcc_mutex",
    "_openmp_mutex",
    "openssl",
    "ca-certificates",
    "certifi-conda",
    "zlib",
    "xz",
    "bzip2",
    "sqlite",
    "readline",
    "tk",
    "ncurses",
    "libffi",
    "nodejs",
    "git",
    "gxx_linux-64",
    "gcc_linux-64",
    "make",
    "cmake",
    "arrow-cpp",
    "libarrow",
    "r-base",
}

_DEP = re.compile(r"^(?:(?P<channel>[\w.\-/]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*(?P<spec>.*)$")
_FILE_OPTION = re.compile(r"^(-r|--requirement|-c|--constraint|-e|--editable)(\s|=|$)")


@dataclass
class Translation:
    python: str | None = None
    requirements: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def parse_conda(text: str, *, field_name: str = "conda_file") -> tuple[dict, list[str]]:
    """Parse and check a conda file; returns (mapping, notices). Errors name their line."""
    data = yamlspec.load_mapping(text, source="conda file", field=field_name)
    notices = yamlspec.check_keys(data, CONDA_KEYS, source="conda file", field=field_name, ignored=CONDA_IGNORED)
    deps = data.get("dependencies")
    line = data.lines.get("dependencies")
    where = f"conda file, line {line}" if line else "conda file"
    if deps is None:
        raise ValidationError({field_name: ["conda file: add a 'dependencies:' list (e.g. - python=3.11)."]})
    if not isinstance(deps, list):
        raise ValidationError({field_name: [f"{where}: 'dependencies' must be a list."]})
    for i, dep in enumerate(deps, 1):
        if isinstance(dep, str):
            continue
        if isinstance(dep, dict) and set(dep) == {"pip"} and isinstance(dep["pip"], list):
            bad = [p for p in dep["pip"] if not isinstance(p, str)]
            if bad:
                raise ValidationError({field_name: [f"{where}: every 'pip:' entry must be a string, not {bad[0]!r}."]})
            continue
        raise ValidationError(
            {field_name: [f"{where}: item {i} must be a package ('numpy=1.26') or a 'pip:' list, not {dep!r}."]}
        )
    channels = data.get("channels", [])
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise ValidationError({field_name: ["conda file: 'channels' must be a list of names."]})
    return data, [f"conda file: {n}" for n in notices]


def normalised(conda: dict) -> dict:
    """The build-relevant part of a parsed conda file (its `name` is not), order kept."""
    deps = []
    for dep in conda.get("dependencies") or []:
        if isinstance(dep, str):
            deps.append(" ".join(dep.split()))
        else:
            deps.append({"pip": [" ".join(p.split()) for p in dep["pip"]]})
    return {"channels": list(conda.get("channels") or []), "dependencies": deps}


def _conda_spec_to_pip(spec: str) -> str:
    """Conda version spec -> PEP 440 (`=1.2` -> `==1.2.*`, `1.2` -> `==1.2.*`, build strings dropped)."""
    spec = spec.strip()
    if not spec:
        return ""
    if spec.startswith("=") and not spec.startswith("=="):
        spec = spec[1:].split("=", 1)[0]  # "=1.2=py311_0" -> "1.2"
        return f"=={spec}" if spec.endswith("*") or spec.count(".") >= 2 else f"=={spec}.*"
    if spec[0].isdigit():
        version = spec.split()[0].split("=", 1)[0]
        return f"=={version}" if version.endswith("*") or version.count(".") >= 2 else f"=={version}.*"
    if spec.startswith("=="):
        return "==" + spec[2:].split("=", 1)[0].strip()
    return spec.replace(" ", "")


def _python_pin(spec: str, notices: list[str]) -> str | None:
    spec = spec.strip().lstrip("=").strip()
    match = re.fullmatch(r"(3\.\d+)(\.\d+)?(\.\*)?", spec)
    if match:
        return match.group(1) + (match.group(2) or "")
    if spec:
        notices.append(f"python {spec} is not a single version; the backend's default Python is used.")
    return None


def translate(conda: dict) -> Translation:
    """Pip requirement lines and the python pin for a parsed conda file."""
    out = Translation()
    for dep in conda.get("dependencies") or []:
        if isinstance(dep, dict):
            out.requirements.extend(line.strip() for line in dep["pip"] if line.strip())
            continue
        match = _DEP.match(dep.strip())
        if not match:
            out.notices.append(f"{dep!r} is not a package spec; skipped.")
            continue
        name, spec = match["name"].lower(), match["spec"]
        if name == "python":
            out.python = _python_pin(spec, out.notices)
            continue
        if name in NOT_PYTHON or name.startswith("r-"):
            out.notices.append(f"{name} is not a Python package; skipped (install system packages in the image).")
            continue
        pypi = RENAMES.get(name, name)
        if pypi != name:
            out.notices.append(f"{name} is called {pypi} on PyPI.")
        out.requirements.append(pypi + _conda_spec_to_pip(spec))
    return out


def check_pip_lines(lines: list[str], *, field_name: str, where: str) -> list[str]:
    """Requirement lines without comments; lines that point at files are refused (the build has
    no such file), and every requirement must parse."""
    from packaging.requirements import InvalidRequirement, Requirement

    out = []
    for number, raw in enumerate(lines, 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if _FILE_OPTION.match(line):
            raise ValidationError(
                {
                    field_name: [
                        f"{where}, line {number}: {line!r} points at a file Studio does not have; list the packages."
                    ]
                }
            )
        if not line.startswith("-") and "://" not in line:
            try:
                Requirement(line)
            except InvalidRequirement as exc:
                raise ValidationError(
                    {field_name: [f"{where}, line {number}: {line!r} is not a valid requirement ({exc})."]}
                ) from None
        out.append(line)
    return out
