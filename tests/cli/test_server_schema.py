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


def test_every_asset_file_is_checked_against_the_servers_schema_of_it(cli):
    """Sweeps, pipelines, components, schedules and endpoints have no hand list of keys in the CLI:
    a typo is refused with its file, line and the key meant, from the server's document, before
    anything is sent (nothing is created)."""
    files = {
        "sweep.yml": (
            ["job", "create", "-f", "sweep.yml"],
            "type: sweep\ntrial:\n  command: echo ${{search_space.x}}\n  environmnet: azureml:e:1\n"
            "search_space: {x: {type: choice, values: [1]}}\nobjective: {primary_metric: m, goal: maximize}\n"
            "sampling_algorithm: random\n",
            "sweep.yml, line 4: unknown key 'environmnet' in trial. Did you mean 'environment'?",
        ),
        "pipeline.yml": (
            ["job", "create", "-f", "pipeline.yml"],
            "type: pipeline\nsettings:\n  default_compute: local\n  force_rerun: true\njobs:\n  a:\n"
            "    component: azureml:c:1\n    compte: local\n",
            "pipeline.yml, line 8: unknown key 'compte' in jobs.a. Did you mean 'compute'?",
        ),
        "component.yml": (
            ["component", "create", "-f", "component.yml"],
            "name: c\ncommand: echo\nenvironment: azureml:e:1\ninputs:\n  x: {type: string, defualt: a}\n",
            "component.yml, line 5: unknown key 'defualt' in inputs.x. Did you mean 'default'?",
        ),
        "schedule.yml": (
            ["schedule", "create", "-f", "schedule.yml"],
            "name: nightly\ntriger: {type: cron, expression: '0 3 * * *'}\ncreate_job: azureml:j\n",
            "schedule.yml, line 2: unknown key 'triger'. Did you mean 'trigger'?",
        ),
        "endpoint.yml": (
            ["online-endpoint", "create", "-f", "endpoint.yml"],
            "name: ep-1\nauth_mod: key\n",
            "endpoint.yml, line 2: unknown key 'auth_mod'. Did you mean 'auth_mode'?",
        ),
        "batch.yml": (
            ["batch-deployment", "create", "-f", "batch.yml", "--endpoint-name", "b1"],
            "name: d1\nmodel: azureml:m:1\nmini_batch_sise: 2\n",
            "batch.yml, line 3: unknown key 'mini_batch_sise'. Did you mean 'mini_batch_size'?",
        ),
    }
    for name, (args, text, words) in files.items():
        write(cli.cwd, name, text)
        result = cli(*args)
        assert result.code == 1 and words in result.err, (name, str(result))
    [path] = cached_documents(cli)
    schemas = json.loads(path.read_text())["document"]["components"]["schemas"]
    assert {"SweepJobSpec", "PipelineJobSpec", "CommandComponentSpec", "JobScheduleSpec"} <= set(schemas)
    assert {"OnlineEndpointSpec", "OnlineDeploymentSpec", "BatchEndpointSpec", "BatchDeploymentSpec"} <= set(schemas)
