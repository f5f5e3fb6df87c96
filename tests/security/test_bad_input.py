"""Hostile bodies against every API's create endpoint: each is a 400 with a message, never a 500.

NUL characters, nesting deeper than anything Studio reads, non-finite or absurd numbers and bytes
that are not UTF-8, sent as JSON, as YAML and as a multipart `spec`.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.conftest import token_client

pytestmark = pytest.mark.django_db

CREATE = [
    "/api/v1/workspaces/",
    "/api/v1/tokens/",
    "/api/v1/workspaces/ws-main/members/",
    "/api/v1/workspaces/ws-main/roles/",
    "/api/v1/workspaces/ws-main/environments/",
    "/api/v1/workspaces/ws-main/environments/env/versions/",
    "/api/v1/workspaces/ws-main/computes/",
    "/api/v1/workspaces/ws-main/jobs/",
    "/api/v1/workspaces/ws-main/codes/",
    "/api/v1/workspaces/ws-main/datastores/",
    "/api/v1/workspaces/ws-main/data/",
    "/api/v1/workspaces/ws-main/data/d/versions/",
]

DEEP = "[" * 50_000 + "]" * 50_000
NESTED_40 = '{"a": ' * 40 + "1" + "}" * 40

JSON_BODIES = {
    "nul in a value": '{"name": "a\\u0000b", "image": "x", "type": "amlcompute", "command": "echo"}',
    "nul in a key": '{"na\\u0000me": "x"}',
    "nesting that overflows the parser": '{"name": ' + DEEP + "}",
    "nesting past the limit": '{"name": "x", "tags": ' + NESTED_40 + "}",
    "a number of 1e30": '{"name": "x", "min_instances": 1e30, "step": 1e30}',
    "a huge integer": '{"name": "x", "max_instances": ' + "9" * 400 + "}",
    "NaN": '{"name": "x", "max_instances": NaN}',
    "Infinity": '{"name": "x", "max_instances": Infinity}',
}

YAML_BODIES = {
    "not UTF-8": b"name: caf\xe9\ntype: amlcompute\n",
    "nul": b"name: a\x00b\n",
    "nesting that overflows the parser": b"name: " + DEEP.encode() + b"\n",
    "nesting past the limit": b"name: x\ntags: " + NESTED_40.encode() + b"\n",
    "a number of 1e30": b"name: x\nmin_instances: 1.0e+30\n",
    "a .nan": b"name: x\nmax_instances: .nan\n",
    "an .inf": b"name: x\nmax_instances: -.inf\n",
}


@pytest.fixture
def api(workspace, owner):
    return token_client(owner)


def assert_refused(response) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["detail"] and "errors" in body


@pytest.mark.parametrize("url", CREATE)
@pytest.mark.parametrize("case", sorted(JSON_BODIES))
def test_a_hostile_json_body_is_a_400(api, url, case):
    assert_refused(api.post(url, JSON_BODIES[case], content_type="application/json"))


@pytest.mark.parametrize("url", CREATE)
def test_a_json_body_that_is_not_utf8_is_a_400(api, url):
    assert_refused(api.post(url, b'{"name": "caf\xe9"}', content_type="application/json"))


@pytest.mark.parametrize("url", CREATE)
@pytest.mark.parametrize("case", sorted(YAML_BODIES))
def test_a_hostile_yaml_body_is_a_400(api, url, case):
    assert_refused(api.post(url, YAML_BODIES[case], content_type="application/yaml"))


# The endpoints that read a definition from a multipart `spec` part (beside files).
SPEC_URLS = [url for url in CREATE if "/environments/" in url or url.endswith(("/computes/", "/jobs/", "/data/"))]
SPEC_URLS.append("/api/v1/workspaces/ws-main/data/d/versions/")


@pytest.mark.parametrize("url", SPEC_URLS)
@pytest.mark.parametrize("case", ["nul", "nesting that overflows the parser", "nesting past the limit", "a .nan"])
def test_a_hostile_multipart_spec_is_a_400(api, url, case):
    assert_refused(api.post(url, {"spec": YAML_BODIES[case].decode()}, format="multipart"))


@pytest.mark.parametrize("url", [url for url in SPEC_URLS if "/data/" not in url])  # data takes files as data
def test_a_multipart_spec_file_that_is_not_utf8_is_a_400(api, url):
    spec = io.BytesIO(YAML_BODIES["not UTF-8"])
    spec.name = "spec.yml"
    assert_refused(api.post(url, {"spec": spec}, format="multipart"))


@pytest.mark.parametrize("url", CREATE)
def test_a_multipart_field_with_nul_is_a_400(api, url):
    assert_refused(api.post(url, {"name": "a\x00b", "spec": "name: x\n"}, format="multipart"))


def zipped(names: list[str]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "print(1)\n")
    buffer.seek(0)
    buffer.name = "code.zip"
    return buffer


@pytest.mark.parametrize("names", [["a", "a/b.py"], ["a/b.py", "a"], ["x/a", "x/a/b/c.py"]])
def test_a_zip_holding_a_file_and_a_folder_of_one_name_is_a_400(api, names):
    response = api.post("/api/v1/workspaces/ws-main/codes/", {"file": zipped(names)}, format="multipart")
    assert_refused(response)
    assert "both a file and a folder" in response.json()["detail"]


def test_a_zip_over_the_file_limit_is_a_400(api, settings):
    settings.STUDIO_CODE_MAX_FILES = 1000
    response = api.post(
        "/api/v1/workspaces/ws-main/codes/", {"file": zipped([f"f{i}.py" for i in range(1001)])}, format="multipart"
    )
    assert_refused(response)
    assert "Too many files" in response.json()["detail"]
    ok = api.post(
        "/api/v1/workspaces/ws-main/codes/", {"file": zipped([f"f{i}.py" for i in range(1000)])}, format="multipart"
    )
    assert ok.status_code == 201, ok.content


@pytest.mark.parametrize(
    "method,url,body",
    [
        ("post", "/api/v1/workspaces/", {"name": "ws-tags"}),
        ("patch", "/api/v1/workspaces/ws-main/", {}),
        ("post", "/api/v1/workspaces/ws-main/environments/", {"name": "env", "image": "python:3.11"}),
        ("post", "/api/v1/workspaces/ws-main/computes/", {"name": "box", "type": "docker"}),
        ("post", "/api/v1/workspaces/ws-main/jobs/", {"command": "echo", "environment": "env:1"}),
        ("post", "/api/v1/workspaces/ws-main/data/", {"name": "d", "path": "azureml://datastores/x/paths/y"}),
    ],
)
@pytest.mark.parametrize("tags", [["a", "b"], "not=ok, =x", {"a": {"nested": 1}}, {"a": "v" * 300}])
def test_malformed_tags_are_a_400_on_tags_everywhere(api, method, url, body, tags):
    response = getattr(api, method)(url, {**body, "tags": tags}, format="json")
    assert_refused(response)
    assert any(key.split(".")[0] == "tags" for key in response.json()["errors"]), response.json()


@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf", ".NaN"])
def test_the_job_form_keeps_non_finite_literals_as_words(text):
    from jobs.forms import _literal

    assert _literal(text) == text
    assert _literal("0.01") == 0.01


@pytest.fixture
def assets(api, workspace, owner):
    """One asset of each kind with a PATCH endpoint, made through the API."""
    base = "/api/v1/workspaces/ws-main"
    made = [
        api.post(f"{base}/computes/", {"name": "box", "type": "amlcompute"}, format="json"),
        api.post(
            f"{base}/data/", {"name": "d", "type": "uri_file", "path": "https://example.com/d.csv"}, format="json"
        ),
    ]
    assert [r.status_code for r in made] == [201, 201], [r.content for r in made]
    return [
        f"{base}/",
        f"{base}/computes/box/",
        f"{base}/datastores/workspaceblobstore/",
        f"{base}/data/d/versions/1/",
        f"{base}/members/olivia/",
    ]


@pytest.mark.parametrize("case", sorted(JSON_BODIES))
def test_a_hostile_json_patch_is_a_400(api, assets, case):
    for url in assets:
        assert_refused(api.patch(url, JSON_BODIES[case], content_type="application/json"))


def _laughs(levels: int = 9) -> str:
    """A "billion laughs": ~400 bytes of anchors and aliases that stand for 9**levels values."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


YAML_BOMBS = {
    "a billion laughs": _laughs(),
    "laughs under a known key": "name: x\ntags:\n  " + _laughs().replace("\n", "\n  "),
    "a node that contains itself": "name: x\ntags: &t {a: *t}\n",
    "a list that contains itself": "name: &l [*l, *l, *l]\n",
}


@pytest.mark.parametrize("url", CREATE)
@pytest.mark.parametrize("case", sorted(YAML_BOMBS))
def test_a_yaml_bomb_is_a_400_at_once(api, url, case):
    """A few hundred bytes must not keep a web worker walking billions of values (it took minutes)."""
    import time

    api.post(url, b"name: [warm, up]\n", content_type="application/yaml")  # the first request imports a lot
    started = time.monotonic()
    response = api.post(url, YAML_BOMBS[case].encode(), content_type="application/yaml")
    assert time.monotonic() - started < 2
    if response.status_code in (401, 403):  # tokens/ wants HTTP Basic, not a bearer token
        return
    assert_refused(response)
    assert "anchors and aliases" in response.content.decode() or "contains it" in response.content.decode()


@pytest.mark.parametrize("case", sorted(YAML_BOMBS))
def test_a_yaml_bomb_in_a_multipart_spec_is_a_400(api, case):
    response = api.post("/api/v1/workspaces/ws-main/jobs/", {"spec": YAML_BOMBS[case]}, format="multipart")
    assert_refused(response)


def test_an_mlmodel_file_that_is_a_yaml_bomb_is_refused():
    """MLmodel, python_env.yaml and conda.yaml come from model uploads and from jobs' log_model."""
    from django.core.exceptions import ValidationError

    from registry.mlmodel import parse_mlmodel
    from studio import yamlspec

    bomb = "flavors:\n  python_function:\n    " + _laughs().replace("\n", "\n    ")
    with pytest.raises(ValidationError, match="anchors and aliases"):
        parse_mlmodel(bomb.encode())
    with pytest.raises(yamlspec.YAMLTooLarge):
        yamlspec.safe_load("dependencies: &d [*d]\n")
    assert yamlspec.safe_load("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}  # anchors as such are fine


def _zip_with(patch_local, patch_central) -> bytes:
    """A one-file zip whose local and central headers are altered by the two functions."""
    import struct  # noqa: F401 - used by the callers' lambdas

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Dockerfile", "FROM scratch\n" * 4)
    data = bytearray(buffer.getvalue())
    patch_local(data, data.find(b"PK\x03\x04"))
    patch_central(data, data.find(b"PK\x01\x02"))
    return bytes(data)


def _set(data: bytearray, at: int, value: bytes) -> None:
    data[at : at + len(value)] = value


BAD_ZIPS = {
    # the entry's checksum does not match its data
    "a wrong CRC": (lambda d, i: _set(d, i + 14, b"\0\0\0\0"), lambda d, j: _set(d, j + 16, b"\0\0\0\0"), "damaged"),
    # the encryption flag: zipfile wants a password
    "an encrypted entry": (lambda d, i: _set(d, i + 6, b"\x01"), lambda d, j: _set(d, j + 8, b"\x01"), "encrypted"),
    # compression method 9 (deflate64), which zipfile does not implement
    "an unknown compression": (lambda d, i: _set(d, i + 8, b"\x09\0"), lambda d, j: _set(d, j + 10, b"\x09\0"), ""),
}
SPEC = "command: echo\nenvironment: azureml:Studio-minimal-py311@latest\n"
ZIP_UPLOADS = {
    "codes": ("/api/v1/workspaces/ws-main/codes/", "file", {}),
    "job code": ("/api/v1/workspaces/ws-main/jobs/", "code", {"spec": SPEC}),
    "component code": ("/api/v1/workspaces/ws-main/components/", "code", {"spec": "name: c\n" + SPEC}),
    "environment context": ("/api/v1/workspaces/ws-main/environments/", "context", {"spec": "name: e\n"}),
    "model files": ("/api/v1/workspaces/ws-main/models/m/versions/", "file", {"spec": "name: m\n"}),
}


@pytest.mark.parametrize("upload", sorted(ZIP_UPLOADS))
@pytest.mark.parametrize("case", sorted(BAD_ZIPS))
def test_a_zip_that_cannot_be_read_is_a_400_saying_why(api, upload, case):
    """Encrypted entries, unknown compression and bad checksums raised RuntimeError,
    NotImplementedError or BadZipFile out of zipfile: a 500 for every upload of code, context, model."""
    local, central, word = BAD_ZIPS[case]
    url, field, extra = ZIP_UPLOADS[upload]
    archive = io.BytesIO(_zip_with(local, central))
    archive.name = "upload.zip"
    api.raise_request_exception = False
    response = api.post(url, {**extra, field: archive}, format="multipart")
    assert_refused(response)
    if word:
        assert word in response.json()["detail"], response.json()
