"""The CLI checks a YAML file's keys against the server's own schema of the asset (the OpenAPI
document at /api/schema/), kept on disk per server with its ETag: no hand copy of the keys."""

from __future__ import annotations

import json

from compute.models import ComputeTarget
from tests.cli.conftest import write


def cached_documents(cli) -> list:
    return sorted((cli.home / ".cache" / "studio").glob("openapi-*.json"))


def test_a_typo_in_a_compute_file_is_refused_with_its_line_before_anything_is_sent(cli):
    write(cli.cwd, "c.yml", "name: c1\ntype: amlcompute\nmax_instanses: 3\n")

    result = cli("compute", "create", "-f", "c.yml")

    assert result.code == 1, result
    assert "c.yml, line 3: unknown key 'max_instanses'. Did you mean 'max_instances'?" in result.err
    assert not ComputeTarget.objects.filter(name="c1").exists()


def test_the_document_is_kept_per_server_and_reused_while_its_etag_holds(cli):
    write(cli.cwd, "c.yml", "name: c1\ntype: amlcompute\ntier: dedicated\n")
    assert cli("compute", "create", "-f", "c.yml").code == 0
    [path] = cached_documents(cli)
    stored = json.loads(path.read_text())
    assert stored["etag"] and "tier" in stored["document"]["components"]["schemas"]["ComputeSpec"]["properties"]

    # The server answers 304 to the stored ETag, so the CLI uses its copy: a copy without `tier`
    # (as an older server's would be) makes the CLI refuse the key.
    del stored["document"]["components"]["schemas"]["ComputeSpec"]["properties"]["tier"]
    path.write_text(json.dumps(stored))
    write(cli.cwd, "c2.yml", "name: c2\ntype: amlcompute\ntier: dedicated\n")
    refused = cli("compute", "create", "-f", "c2.yml")
    assert refused.code == 1 and "c2.yml, line 3: unknown key 'tier'" in refused.err, refused

    # A copy whose ETag the server no longer has is replaced by the current document.
    stored["etag"] = '"stale"'
    path.write_text(json.dumps(stored))
    assert cli("compute", "create", "-f", "c2.yml").code == 0
    assert json.loads(path.read_text())["etag"] != '"stale"'
    assert ComputeTarget.objects.filter(name__in=["c1", "c2"]).count() == 2
