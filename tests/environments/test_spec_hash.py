"""The spec hash covers what decides a build and nothing else."""

import pytest

from environments import hashing, spec
from tests.environments.helpers import CONDA, make_zip

pytestmark = pytest.mark.django_db


def digest(data, files=None) -> str:
    return hashing.spec_hash(spec.parse(data, files=files))


def conda(deps: str) -> str:
    return f"name: x\ndependencies:\n{deps}"


BASE = {"name": "env-a", "image": "studio/base:bookworm", "conda_file": CONDA}


def test_name_version_description_and_tags_do_not_change_the_hash():
    other = BASE | {"name": "env-b", "version": "7", "description": "words", "tags": {"team": "vision"}}
    assert digest(BASE) == digest(other)


def test_the_conda_files_own_name_and_comments_do_not_change_the_hash():
    renamed = CONDA.replace("name: tiny", "name: something-else  # comment")
    assert digest(BASE) == digest(BASE | {"conda_file": renamed})


@pytest.mark.parametrize(
    "deps",
    [
        "  - python=3.11\n  - pip\n  - numpy\n  - pip:\n      - six==1.16.0\n",  # a package added
        "  - python=3.11\n  - pip:\n      - six==1.16.0\n",  # a package removed
        "  - pip\n  - python=3.11\n  - pip:\n      - six==1.16.0\n",  # reordered
        "  - python=3.11\n  - pip\n  - pip:\n      - six==1.17.0\n",  # another version
    ],
)
def test_a_package_added_removed_reordered_or_repinned_changes_the_hash(deps):
    assert digest(BASE) != digest(BASE | {"conda_file": conda(deps)})


def test_pip_requirements_in_their_order():
    a = {"name": "p", "image": "studio/base:bookworm", "pip_requirements": "six\niniconfig\n"}
    b = a | {"pip_requirements": "iniconfig\nsix\n"}
    c = a | {"pip_requirements": "six   # the six\n\niniconfig\n"}
    assert digest(a) != digest(b)
    assert digest(a) == digest(c)


def test_the_image_changes_the_hash():
    assert digest(BASE) != digest(BASE | {"image": "python:3.11-slim"})


def test_one_changed_byte_of_a_dockerfile_or_context_file_changes_the_hash():
    data = {"name": "ctx", "build": {"path": "."}}
    files = {"Dockerfile": b"FROM studio/base:bookworm\nCOPY app.py /app.py\n", "app.py": b"print(1)\n"}
    same = dict(files)
    dockerfile_changed = files | {"Dockerfile": b"FROM studio/base:bookworm\nCOPY app.py /app.py \n"}
    file_changed = files | {"app.py": b"print(2)\n"}
    assert digest(data, files) == digest(data, same)
    assert digest(data, files) != digest(data, dockerfile_changed)
    assert digest(data, files) != digest(data, file_changed)


def test_only_build_variables_enter_the_hash():
    runtime = BASE | {"environment_variables": {"OMP_NUM_THREADS": "2"}}
    build = BASE | {"environment_variables": {"UV_INDEX_URL": "https://mirror.example/simple"}}
    assert digest(BASE) == digest(runtime)
    assert digest(BASE) != digest(build)


def test_zip_order_does_not_matter_for_the_same_files():
    from environments import context

    one = context.from_zip(make_zip({"Dockerfile": "FROM x\n", "a.txt": "a"}))
    two = context.from_zip(make_zip({"a.txt": "a", "Dockerfile": "FROM x\n"}))
    assert context.pack(one) == context.pack(two)
    assert digest({"name": "c", "build": {}} | {"build": {"path": "."}}, one) == digest(
        {"name": "c", "build": {"path": "."}}, two
    )
