"""Conda files translated for uv: version specs, renamed and skipped packages, the python pin."""

import re

import pytest
from django.core.exceptions import ValidationError

from compute.backends import failing_line
from environments import conda


def translate(text: str) -> conda.Translation:
    parsed, _ = conda.parse_conda(text)
    return conda.translate(parsed)


def test_conda_specs_become_pip_requirements_in_order():
    result = translate(
        "channels: [conda-forge]\n"
        "dependencies:\n"
        "  - python=3.11\n"
        "  - numpy=1.26\n"
        "  - pandas==2.2.1\n"
        "  - scipy>=1.10,<2\n"
        "  - conda-forge::matplotlib-base 3.8\n"
        "  - pytorch=2.3=py3.11_cpu_0\n"
        "  - cudatoolkit=11.8\n"
        "  - pip:\n"
        "      - mlflow-skinny==2.*\n"
        "      - --extra-index-url https://example.org/simple\n"
    )
    assert result.python == "3.11"
    assert result.requirements == [
        "numpy==1.26.*",
        "pandas==2.2.1",
        "scipy>=1.10,<2",
        "matplotlib==3.8.*",
        "torch==2.3.*",
        "mlflow-skinny==2.*",
        "--extra-index-url https://example.org/simple",
    ]
    notices = " ".join(result.notices)
    assert "cudatoolkit is not a Python package" in notices and "pytorch is called torch" in notices


@pytest.mark.parametrize(("spec", "pin"), [("python=3.12", "3.12"), ("python==3.11.4", "3.11.4"), ("python", None)])
def test_the_python_pin(spec, pin):
    assert translate(f"dependencies:\n  - {spec}\n").python == pin


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("channels: [a]\n", "add a 'dependencies:' list"),
        ("dependencies: numpy\n", "must be a list"),
        ("dependencies:\n  - {conda: [x]}\n", "item 1 must be a package"),
        ("dependencies:\n  - numpy\nprefix: /opt\nextra: 1\n", "unknown key 'extra' (line 4)"),
        ("dependencies:\n  - numpy\n  - [oops\n", "conda file, line 4"),
    ],
)
def test_bad_conda_files_say_where(text, words):
    with pytest.raises(ValidationError, match=re.escape(words)):
        conda.parse_conda(text)


def test_the_failing_line_of_a_uv_log_is_the_missing_package():
    log = [
        "Resolved 3 packages",
        "  × No solution found when resolving dependencies:",
        "  ╰─▶ Because scikit-lern was not found in the package registry and you require scikit-lern, we can "
        "conclude that your requirements are unsatisfiable.",
    ]
    assert failing_line(log) == "No matching distribution found for scikit-lern (it is not in the package registry)"
    assert failing_line(["ERROR: No matching distribution found for scikit-lern"]) == (
        "No matching distribution found for scikit-lern"
    )
    assert failing_line(["all good"]) == ""


def test_the_failing_line_of_a_docker_log_ignores_its_colour_codes():
    # Docker paints a RUN step's stderr red, a fragment at a time.
    log = [
        "\x1b[91mUsing Python 3.11.2 environment at: /opt/studio-env\x1b[0m\x1b[91m",
        "\x1b[0m\x1b[91merror\x1b[0m\x1b[91m:\x1b[0m\x1b[91m \x1b[0m\x1b[91mFailed to fetch: https://pypi.org/simple/pip/\x1b[0m",
        "The command '/bin/sh -c uv pip install' returned a non-zero code: 2",
    ]
    assert failing_line(log) == "error: Failed to fetch: https://pypi.org/simple/pip/"
