"""`studio batch-endpoint create|list|show|invoke|list-jobs|delete` and
`studio batch-deployment create|list|show|delete`: batch endpoints from Azure ML's batchEndpoint
and modelBatchDeployment YAML, as `az ml batch-endpoint` / `az ml batch-deployment` have them.
A deployment's local `code_configuration.code` folder is uploaded first; a local `--input`
folder goes to the workspace's default datastore."""

from __future__ import annotations

from pathlib import Path

from studio_cli import schemas
from studio_cli.commands import add_command, add_group, add_name_arguments, name_from_args
from studio_cli.context import Context
from studio_cli.datafiles import upload_to_default_datastore
from studio_cli.errors import ApiError, CLIError, SpecError
from studio_cli.output import emit, info
from studio_cli.refs import is_remote
from studio_cli.uploads import upload_zipped_folder
from studio_cli.yamlfile import SpecFile, apply_sets, check_keys

ENDPOINT_COLUMNS = [
    ("Name", "name"),
    ("Default deployment", lambda e: (e.get("defaults") or {}).get("deployment_name")),
]
DEPLOYMENT_COLUMNS = [
    ("Name", "name"),
    ("Model", "model"),
    ("Compute", "compute"),
    ("Instances", lambda d: (d.get("resources") or {}).get("instance_count")),
    ("Mini-batch", lambda d: (d.get("settings") or {}).get("mini_batch_size")),
]
JOB_COLUMNS = [
    ("Name", "name"),
    ("Status", "status"),
    ("Deployment", "deployment_name"),
    ("Mini-batches", lambda j: f"{j['progress']['done']}/{j['progress']['total']}"),
    ("Created", "created_at"),
]
SERVER_ONLY = ("$schema", "provisioning_state", "scoring_uri", "openapi_uri", "id")


def register(groups, common) -> None:
    endpoints = add_group(groups, "batch-endpoint", "Batch endpoints: score folders of files in mini-batches.")
    create = add_command(endpoints, "create", cmd_endpoint_create, common, "Create a batch endpoint from YAML.")
    _file_options(create)
    add_command(endpoints, "list", cmd_endpoint_list, common, "List batch endpoints.")
    show = add_command(endpoints, "show", cmd_endpoint_show, common, "Show a batch endpoint.")
    add_name_arguments(show)
    update = add_command(endpoints, "update", cmd_endpoint_update, common, "Change a batch endpoint (defaults, ...).")
    add_name_arguments(update)
    update.add_argument("--set", action="append", metavar="KEY=VALUE", help="e.g. defaults.deployment_name=green")
    invoke = add_command(endpoints, "invoke", cmd_invoke, common, "Score data: makes a batch scoring job.")
    add_name_arguments(invoke)
    invoke.add_argument(
        "--input", required=True, help="azureml:<data>:<version>, azureml://datastores/... or a local folder"
    )
    invoke.add_argument(
        "--input-type", choices=["uri_folder", "uri_file"], help="default: the data asset's type, else uri_folder"
    )
    invoke.add_argument("-d", "--deployment-name", help="default: the endpoint's default deployment")
    invoke.add_argument("--experiment-name")
    jobs = add_command(endpoints, "list-jobs", cmd_list_jobs, common, "List a batch endpoint's jobs, with progress.")
    add_name_arguments(jobs)
    delete = add_command(endpoints, "delete", cmd_endpoint_delete, common, "Delete a batch endpoint (its jobs stay).")
    add_name_arguments(delete)

    deployments = add_group(groups, "batch-deployment", "Deployments of batch endpoints: model, driver, settings.")
    create = add_command(deployments, "create", cmd_deployment_create, common, "Create a batch deployment from YAML.")
    _file_options(create)
    create.add_argument("-e", "--endpoint-name", help="default: endpoint_name in the file")
    create.add_argument("--set-default", action="store_true", help="make it the endpoint's default deployment")
    listing = add_command(deployments, "list", cmd_deployment_list, common, "List an endpoint's batch deployments.")
    listing.add_argument("-e", "--endpoint-name", required=True)
    for verb, func, text in (
        ("show", cmd_deployment_show, "Show a batch deployment."),
        ("delete", cmd_deployment_delete, "Delete a batch deployment."),
    ):
        parser = add_command(deployments, verb, func, common, text)
        add_name_arguments(parser)
        parser.add_argument("-e", "--endpoint-name", required=True)


def _file_options(parser) -> None:
    parser.add_argument("-f", "--file", required=True, help="the YAML file")
    parser.add_argument("-n", "--name", help="overrides name in the file")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key of the file")


def _body(spec: SpecFile, args, allowed: set[str] | None) -> dict:
    """The file as a body: what Azure writes back (SERVER_ONLY) left out, the rest checked against
    the server's schema of the asset (`allowed`)."""
    apply_sets(spec.data, args.set)
    check_keys(spec, spec.data, None if allowed is None else allowed | set(SERVER_ONLY))
    body = {k: v for k, v in dict(spec.data).items() if k not in SERVER_ONLY}
    if args.name:
        body["name"] = args.name
    if not body.get("name"):
        raise SpecError(f"{spec.name}: give a name (or pass --name).")
    return body


def _located(spec: SpecFile, exc: ApiError) -> CLIError:
    """The server's complaint, at the file and line of the key it is about."""
    for field, messages in exc.errors.items():
        mapping, where = spec.data, ""
        for key in str(field).split("."):
            if not isinstance(mapping, dict) or key not in mapping:
                break
            where, mapping = spec.where(mapping, key), mapping[key]
        if where:
            message = messages[0] if isinstance(messages, list) and messages else messages
            return CLIError(f"{where}: {field}: {message}", exit_code=exc.exit_code)
    return exc


def cmd_endpoint_create(ctx: Context) -> int:
    spec = SpecFile(ctx.args.file)
    body = _body(spec, ctx.args, schemas.keys(ctx.client, schemas.BATCH_ENDPOINT))
    defaults = body.pop("defaults", None)
    try:
        created = ctx.client.post(ctx.ws_path("batch-endpoints"), json=body)
        if defaults:
            created = ctx.client.patch(ctx.ws_path("batch-endpoints", body["name"]), json={"defaults": defaults})
    except ApiError as exc:
        raise _located(spec, exc) from None
    emit(created, ctx.output)
    return 0


def cmd_endpoint_list(ctx: Context) -> int:
    emit(ctx.client.get(ctx.ws_path("batch-endpoints")), ctx.output, ENDPOINT_COLUMNS)
    return 0


def cmd_endpoint_show(ctx: Context) -> int:
    emit(ctx.client.get(ctx.ws_path("batch-endpoints", name_from_args(ctx.args, "batch endpoint"))), ctx.output)
    return 0


def cmd_endpoint_update(ctx: Context) -> int:
    body: dict = {}
    apply_sets(body, ctx.args.set)
    if not body:
        raise CLIError("Nothing to change: pass --set KEY=VALUE (e.g. defaults.deployment_name=green).")
    name = name_from_args(ctx.args, "batch endpoint")
    emit(ctx.client.patch(ctx.ws_path("batch-endpoints", name), json=body), ctx.output)
    return 0


def cmd_endpoint_delete(ctx: Context) -> int:
    name = name_from_args(ctx.args, "batch endpoint")
    ctx.client.delete(ctx.ws_path("batch-endpoints", name))
    info(f"Deleted the batch endpoint {name}.")
    return 0


def cmd_invoke(ctx: Context) -> int:
    args = ctx.args
    name = name_from_args(args, "batch endpoint")
    given = args.input
    if not is_remote(given):
        local = Path(given)
        if not local.exists():
            raise CLIError(f"--input {given!r} is neither a data reference (azureml:...) nor a local file or folder.")
        given = upload_to_default_datastore(ctx, local)
        args.input_type = args.input_type or ("uri_file" if local.is_file() else "uri_folder")
    body: dict = {"input": {"type": args.input_type, "path": given} if args.input_type else given}
    if args.deployment_name:
        body["deployment_name"] = args.deployment_name
    if args.experiment_name:
        body["experiment_name"] = args.experiment_name
    job = ctx.client.post(ctx.ws_path("batch-endpoints", name, "invoke"), json=body)
    total = job["progress"]["total"]
    info(f"Batch scoring job {job['name']}: {total} mini-batches. {ctx.page_url('batch-jobs', job['name'])}")
    emit(job, ctx.output)
    return 0


def cmd_list_jobs(ctx: Context) -> int:
    name = name_from_args(ctx.args, "batch endpoint")
    emit(ctx.client.get(ctx.ws_path("batch-endpoints", name, "jobs")), ctx.output, JOB_COLUMNS)
    return 0


def _upload_driver(ctx: Context, spec: SpecFile, body: dict) -> None:
    """A local code folder becomes a code snapshot id."""
    configuration = body.get("code_configuration")
    if not isinstance(configuration, dict) or not configuration.get("code"):
        return
    code = str(configuration["code"])
    if code.startswith("azureml:") or code.isdigit():
        return
    local = spec.local_path(configuration, "code")
    if not local.is_dir():
        raise SpecError(f"{spec.where(configuration, 'code')}: code: {local} is not a folder.")
    answer = upload_zipped_folder(
        ctx.client, ctx.ws_path("codes"), local, what="Code", label="Uploading code", filename="code.zip"
    )
    body["code_configuration"] = {**configuration, "code": str(answer["id"])}


def cmd_deployment_create(ctx: Context) -> int:
    spec = SpecFile(ctx.args.file)
    body = _body(spec, ctx.args, schemas.keys(ctx.client, schemas.BATCH_DEPLOYMENT))
    endpoint = ctx.args.endpoint_name or body.get("endpoint_name")
    if not endpoint:
        raise SpecError(f"{spec.name}: give endpoint_name (or pass --endpoint-name).")
    body["endpoint_name"] = endpoint
    if isinstance(body.get("environment"), dict):
        raise SpecError(
            f"{spec.where(spec.data, 'environment')}: environment: create the environment first "
            "(studio environment create) and give its reference, e.g. azureml:my-env:1."
        )
    model = body.get("model")
    if isinstance(model, dict) or (isinstance(model, str) and not model.startswith("azureml:")):
        raise SpecError(
            f"{spec.where(spec.data, 'model')}: model: register the model first (studio model create) "
            "and give its reference, e.g. azureml:my-model:1."
        )
    _upload_driver(ctx, spec, body)
    try:
        created = ctx.client.post(ctx.ws_path("batch-endpoints", endpoint, "deployments"), json=body)
        if ctx.args.set_default:
            ctx.client.patch(
                ctx.ws_path("batch-endpoints", endpoint), json={"defaults": {"deployment_name": body["name"]}}
            )
    except ApiError as exc:
        raise _located(spec, exc) from None
    emit(created, ctx.output)
    return 0


def cmd_deployment_list(ctx: Context) -> int:
    path = ctx.ws_path("batch-endpoints", ctx.args.endpoint_name, "deployments")
    emit(ctx.client.get(path), ctx.output, DEPLOYMENT_COLUMNS)
    return 0


def cmd_deployment_show(ctx: Context) -> int:
    name = name_from_args(ctx.args, "batch deployment")
    emit(ctx.client.get(ctx.ws_path("batch-endpoints", ctx.args.endpoint_name, "deployments", name)), ctx.output)
    return 0


def cmd_deployment_delete(ctx: Context) -> int:
    name = name_from_args(ctx.args, "batch deployment")
    ctx.client.delete(ctx.ws_path("batch-endpoints", ctx.args.endpoint_name, "deployments", name))
    info(f"Deleted the batch deployment {name}.")
    return 0
