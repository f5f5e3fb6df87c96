"""`studio online-endpoint create|update|show|list|invoke|get-credentials|regenerate-keys|delete`
and `studio online-deployment create|update|show|list|get-logs|delete`, as `az ml` has them,
from Azure's managedOnlineEndpoint / managedOnlineDeployment YAML files as they are: a local
`code_configuration.code` folder is uploaded as a code snapshot, a local `model` path (or an
inline model) is registered as a model version, an inline `environment` as an environment version.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from studio_cli import schemas
from studio_cli.commands import add_command, add_group
from studio_cli.context import Context
from studio_cli.datafiles import file_parts
from studio_cli.errors import ApiError, CLIError, SpecError
from studio_cli.output import emit, info
from studio_cli.specs import environment_body, plain, report_notices
from studio_cli.uploads import upload_files, upload_zipped_folder
from studio_cli.yamlfile import SpecFile, apply_sets, check_keys

ENDPOINT_COLUMNS = [
    ("Name", "name"),
    ("Auth", "auth_mode"),
    ("Traffic", lambda e: " ".join(f"{k}={v}" for k, v in (e.get("traffic") or {}).items())),
    ("Deployments", lambda e: ", ".join(e.get("deployments") or [])),
    ("Scoring URI", "scoring_uri"),
]
DEPLOYMENT_COLUMNS = [
    ("Name", "name"),
    ("Endpoint", "endpoint_name"),
    ("Model", "model"),
    ("Environment", "environment"),
    ("Instances", "instance_count"),
    ("Ready", lambda d: sum(1 for i in d.get("instances") or [] if i.get("status") == "ready")),
]
LOG_POLL_SECONDS = 1.0


def register(groups, common) -> None:
    endpoints = add_group(groups, "online-endpoint", "Online endpoints: a scoring URI with keys and a traffic split.")
    create = add_command(endpoints, "create", cmd_endpoint_create, common, "Create an online endpoint.")
    create.add_argument("-f", "--file", help="an Azure ML managedOnlineEndpoint YAML file")
    create.add_argument("-n", "--name", help="the endpoint's name (overrides the file's)")
    create.add_argument("--auth-mode", choices=["key", "aml_token"], help="key (default) or aml_token")
    create.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key of the file")
    update = add_command(endpoints, "update", cmd_endpoint_update, common, "Change an endpoint: traffic, description.")
    update.add_argument("-f", "--file", help="an Azure ML managedOnlineEndpoint YAML file")
    update.add_argument("-n", "--name", help="the endpoint's name (overrides the file's)")
    update.add_argument("--traffic", help='the split, as az takes it: "blue=90 green=10"')
    update.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key of the file")
    for action, func, text in (
        ("show", cmd_endpoint_show, "Show an online endpoint."),
        ("get-credentials", cmd_get_credentials, "Show the endpoint's keys."),
        ("delete", cmd_endpoint_delete, "Delete an endpoint and its deployments."),
    ):
        parser = add_command(endpoints, action, func, common, text)
        parser.add_argument("-n", "--name", required=True, help="the endpoint's name")
        if action == "delete":
            parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    add_command(endpoints, "list", cmd_endpoint_list, common, "List online endpoints.")
    regenerate = add_command(endpoints, "regenerate-keys", cmd_regenerate_keys, common, "Replace one key.")
    regenerate.add_argument("-n", "--name", required=True, help="the endpoint's name")
    regenerate.add_argument("--key-type", choices=["primary", "secondary"], default="primary")
    invoke = add_command(endpoints, "invoke", cmd_invoke, common, "Send a request file to the scoring URI.")
    invoke.add_argument("-n", "--name", required=True, help="the endpoint's name")
    invoke.add_argument("-r", "--request-file", required=True, help="the JSON body to send")
    invoke.add_argument("-d", "--deployment-name", help="this deployment answers (not the traffic split)")

    deployments = add_group(groups, "online-deployment", "Deployments of online endpoints: model, code, environment.")
    for action, func, text in (
        ("create", cmd_deployment_create, "Create a deployment from a YAML file."),
        ("update", cmd_deployment_update, "Change a deployment (its instances are replaced)."),
    ):
        parser = add_command(deployments, action, func, common, text)
        parser.add_argument("-f", "--file", required=action == "create", help="a managedOnlineDeployment YAML file")
        parser.add_argument("-n", "--name", help="the deployment's name (overrides the file's)")
        parser.add_argument("-e", "--endpoint-name", help="the endpoint (overrides the file's endpoint_name)")
        parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key of the file")
        if action == "create":
            parser.add_argument("--all-traffic", action="store_true", help="send all the endpoint's traffic to it")
    for action, func, text in (
        ("show", cmd_deployment_show, "Show a deployment and its instances."),
        ("get-logs", cmd_get_logs, "Print a deployment's server log (its scoring script's output too)."),
        ("delete", cmd_deployment_delete, "Delete a deployment (it must take no traffic)."),
    ):
        parser = add_command(deployments, action, func, common, text)
        parser.add_argument("-n", "--name", required=True, help="the deployment's name")
        parser.add_argument("-e", "--endpoint-name", required=True, help="its endpoint")
        if action == "get-logs":
            parser.add_argument("-l", "--lines", type=int, help="only the last N lines")
            parser.add_argument("--follow", action="store_true", help="keep printing new lines (Ctrl-C stops)")
        if action == "delete":
            parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    listing = add_command(deployments, "list", cmd_deployment_list, common, "List an endpoint's deployments.")
    listing.add_argument("-e", "--endpoint-name", required=True, help="the endpoint")


# --- endpoints --------------------------------------------------------------------------------


def _endpoint_body(ctx: Context) -> tuple[SpecFile | None, dict]:
    args = ctx.args
    spec, body = None, {}
    if args.file:
        spec = SpecFile(args.file)
        apply_sets(spec.data, args.set)
        check_keys(spec, spec.data, schemas.keys(ctx.client, schemas.ONLINE_ENDPOINT))
        body = {k: plain(v) for k, v in spec.data.items() if k != "$schema"}
    elif args.set:
        apply_sets(body, args.set)
        body = plain(body)
    if args.name:
        body["name"] = args.name
    if not body.get("name"):
        raise CLIError("Which endpoint? Give --name NAME (or a --file with a name).")
    return spec, body


def _located(spec: SpecFile | None, exc: ApiError) -> CLIError:
    """The server's complaint about a key of the file, with the file and line of that key."""
    if spec is not None:
        for field, messages in exc.errors.items():
            key = field.split(".", 1)[0]
            if key in spec.data:
                message = messages[0] if isinstance(messages, list) and messages else messages
                return CLIError(f"{spec.where(spec.data, key)}: {key}: {message}", exit_code=exc.exit_code)
    return exc


def cmd_endpoint_create(ctx: Context) -> int:
    spec, body = _endpoint_body(ctx)
    if getattr(ctx.args, "auth_mode", None):
        body["auth_mode"] = ctx.args.auth_mode
    try:
        created = ctx.client.post(ctx.ws_path("online-endpoints"), json=body)
    except ApiError as exc:
        raise _located(spec, exc) from None
    report_notices(spec, created)
    emit(created, ctx.output)
    return 0


def parse_traffic(text: str) -> dict[str, int]:
    """`"blue=90 green=10"` (az's form; commas also accepted) as {"blue": 90, "green": 10}."""
    out: dict[str, int] = {}
    for item in text.replace(",", " ").split():
        name, sep, share = item.partition("=")
        if not sep or not name or not share.strip().isdigit():
            raise CLIError(f'--traffic {item!r}: write deployment=percent, e.g. --traffic "blue=90 green=10".')
        out[name] = int(share)
    return out


def cmd_endpoint_update(ctx: Context) -> int:
    spec, body = _endpoint_body(ctx)
    name = body.pop("name")
    if ctx.args.traffic is not None:
        body["traffic"] = parse_traffic(ctx.args.traffic)
    if not body:
        raise CLIError("Nothing to change: give --traffic, --file or --set.")
    try:
        updated = ctx.client.patch(ctx.ws_path("online-endpoints", name), json=body)
    except ApiError as exc:
        raise _located(spec, exc) from None
    emit(updated, ctx.output)
    return 0


def cmd_endpoint_show(ctx: Context) -> int:
    emit(ctx.client.get(ctx.ws_path("online-endpoints", ctx.args.name)), ctx.output)
    return 0


def cmd_endpoint_list(ctx: Context) -> int:
    emit(ctx.client.list_all(ctx.ws_path("online-endpoints")), ctx.output, ENDPOINT_COLUMNS)
    return 0


def cmd_get_credentials(ctx: Context) -> int:
    found = ctx.client.get(ctx.ws_path("online-endpoints", ctx.args.name, "keys"))
    # az prints {"primaryKey", "secondaryKey"}; scripts written for it read those names.
    emit({"primaryKey": found["primary_key"], "secondaryKey": found["secondary_key"]}, ctx.output)
    return 0


def cmd_regenerate_keys(ctx: Context) -> int:
    ctx.client.post(
        ctx.ws_path("online-endpoints", ctx.args.name, "regenerate-keys"), json={"key_type": ctx.args.key_type}
    )
    info(f"The {ctx.args.key_type} key of {ctx.args.name} was regenerated.")
    return 0


def _confirm(ctx: Context, question: str) -> bool:
    if ctx.args.yes or not sys.stdin.isatty():
        return True
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def cmd_endpoint_delete(ctx: Context) -> int:
    name = ctx.args.name
    if not _confirm(ctx, f"Delete the online endpoint {name!r} and all its deployments in {ctx.workspace!r}?"):
        info("Nothing deleted.")
        return 1
    ctx.client.delete(ctx.ws_path("online-endpoints", name))
    info(f"Deleted the online endpoint {name}.")
    return 0


def cmd_invoke(ctx: Context) -> int:
    """POST the request file to the scoring URI with the endpoint's key (or, for aml_token
    endpoints, this CLI's own token) and print the answer."""
    args = ctx.args
    path = Path(args.request_file).expanduser()
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise CLIError(f"--request-file {args.request_file}: cannot read it ({exc.strerror or exc}).") from None
    try:
        json.loads(body)
    except ValueError as exc:
        raise CLIError(f"--request-file {args.request_file}: not JSON ({exc}).") from None
    endpoint = ctx.client.get(ctx.ws_path("online-endpoints", args.name))
    if endpoint.get("auth_mode") == "key":
        secret = ctx.client.get(ctx.ws_path("online-endpoints", args.name, "keys"))["primary_key"]
    else:
        secret = ctx.client.session.headers.get("Authorization", "").removeprefix("Bearer ")
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    if args.deployment_name:
        headers["azureml-model-deployment"] = args.deployment_name
    response = ctx.client.raw("POST", endpoint["scoring_uri"], data=body, headers=headers)
    info(f"answered by {response.headers.get('azureml-model-deployment', '?')}")
    try:
        answer = response.json()
    except ValueError:
        sys.stdout.write(response.text + ("" if response.text.endswith("\n") else "\n"))
        return 0
    print(json.dumps(answer, indent=2))
    return 0


# --- deployments ------------------------------------------------------------------------------


def _deployment_spec(ctx: Context) -> tuple[SpecFile | None, dict]:
    args = ctx.args
    spec, data = None, {}
    if args.file:
        spec = SpecFile(args.file)
        apply_sets(spec.data, args.set)
        check_keys(spec, spec.data, schemas.keys(ctx.client, schemas.ONLINE_DEPLOYMENT))
        data = spec.data
    elif args.set:
        apply_sets(data, args.set)
    if args.name:
        data["name"] = args.name
    if args.endpoint_name:
        data["endpoint_name"] = args.endpoint_name
    for key in ("name", "endpoint_name"):
        if not data.get(key):
            flag = "--name" if key == "name" else "--endpoint-name"
            raise CLIError(f"Which {key.replace('_', ' ')}? Give {flag} (or a --file with {key}).")
    return spec, data


def _upload_code(ctx: Context, spec: SpecFile, data: dict) -> dict:
    """`code_configuration` with a local `code` folder (or file) uploaded: {code: <id>, scoring_script}."""
    config = data.get("code_configuration")
    if not isinstance(config, dict):
        raise SpecError(f"{spec.where(data, 'code_configuration')}: code_configuration must be a mapping.")
    allowed = schemas.keys(ctx.client, schemas.ONLINE_DEPLOYMENT, "code_configuration")
    check_keys(spec, config, allowed, context="code_configuration")
    if not config.get("code") or not config.get("scoring_script"):
        raise SpecError(f"{spec.where(data, 'code_configuration')}: code_configuration needs code and scoring_script.")
    code = str(config["code"])
    if code.isdigit():  # an uploaded snapshot's id
        return {"code": int(code), "scoring_script": str(config["scoring_script"])}
    if code.startswith(("azureml:", "http://", "https://")):
        raise SpecError(f"{spec.where(config, 'code')}: code must be a local folder (it is uploaded).")
    folder = spec.local_path(config, "code")
    script = folder / str(config["scoring_script"]) if folder.is_dir() else folder
    if not script.is_file():
        raise SpecError(f"{spec.where(config, 'scoring_script')}: {config['scoring_script']!r} is not in {folder}.")
    answer = upload_zipped_folder(
        ctx.client, ctx.ws_path("codes"), folder, what="Code", label="Uploading code", filename="code.zip"
    )
    return {"code": answer["id"], "scoring_script": str(config["scoring_script"]) if folder.is_dir() else folder.name}


def _model_ref(ctx: Context, spec: SpecFile, data: dict) -> str:
    """`model` as a registered reference: `azureml:name:version` passes; a local path, or an inline
    model with a local `path`, is registered first (as Azure registers an anonymous model)."""
    model = data["model"]
    default_name = f"{data['endpoint_name']}-{data['name']}-model"
    if isinstance(model, str):
        if model.startswith("azureml:"):
            return model
        entry: dict = {"path": model}
        holder, key = data, "model"
    elif isinstance(model, dict):
        check_keys(spec, model, schemas.keys(ctx.client, schemas.MODEL), context="model")  # registered as a model
        entry, holder, key = dict(model), model, "path"
        if not entry.get("path"):
            raise SpecError(f"{spec.where(data, 'model')}: an inline model needs a path.")
    else:
        raise SpecError(f"{spec.where(data, 'model')}: model is azureml:<name>:<version>, a local path or a mapping.")
    local = spec.local_path(holder, key)
    name = str(entry.get("name") or default_name)
    body = {k: plain(v) for k, v in entry.items() if k in ("version", "type", "description", "tags")}
    if body.get("version") is not None:
        body["version"] = str(body["version"])
    parts = file_parts(local)
    info(f"Registering the model {name} from {local} ({len(parts)} file{'s' if len(parts) != 1 else ''})")
    created = upload_files(
        ctx.client,
        ctx.ws_path("models", name, "versions"),
        parts,
        label=f"Uploading {local.name}",
        fields={"spec": json.dumps(body)},
    )
    return f"azureml:{created['name']}:{created['version']}"


def _environment_ref(ctx: Context, spec: SpecFile, data: dict) -> str:
    """`environment` as a reference; an inline one (image + conda_file) is created as a version."""
    env = data["environment"]
    if isinstance(env, str):
        return env
    if not isinstance(env, dict):
        raise SpecError(f"{spec.where(data, 'environment')}: environment must be a reference or a mapping.")
    prepared = environment_body(spec, env, schemas.for_server(ctx.client), inline=True)
    if prepared.uploads:
        raise SpecError(
            f"{spec.where(data, 'environment')}: a deployment's inline environment takes image + conda_file."
        )
    name = str(prepared.body.pop("name", "") or f"{data['endpoint_name']}-{data['name']}-env")
    created = ctx.client.post(ctx.ws_path("environments", name, "versions"), json=prepared.body)
    report_notices(None, created)
    info(f"Environment {name}:{created['version']} created from the file's inline environment")
    return f"azureml:{name}:{created['version']}"


def _require_endpoint(ctx: Context, name: str) -> dict:
    """The endpoint, checked before anything is uploaded for its deployment."""
    try:
        return ctx.client.get(ctx.ws_path("online-endpoints", name))
    except ApiError as exc:
        if exc.status == 404:
            raise CLIError(
                f"There is no online endpoint {name} in {ctx.workspace}: create it first "
                "(studio online-endpoint create --file endpoint.yml)."
            ) from None
        raise


def _deployment_body(ctx: Context, spec: SpecFile | None, data: dict) -> dict:
    _require_endpoint(ctx, data["endpoint_name"])
    body = {k: plain(v) for k, v in data.items() if k not in ("$schema", "model", "environment", "code_configuration")}
    if spec is not None:
        if "model" in data:
            body["model"] = _model_ref(ctx, spec, data)
        if "environment" in data:
            body["environment"] = _environment_ref(ctx, spec, data)
        if "code_configuration" in data:
            body["code_configuration"] = _upload_code(ctx, spec, data)
    else:
        body.update({k: plain(data[k]) for k in ("model", "environment", "code_configuration") if k in data})
    return body


def cmd_deployment_create(ctx: Context) -> int:
    spec, data = _deployment_spec(ctx)
    if "model" not in data:  # code and environment may be left out for an MLflow model
        raise SpecError(f"{spec.name if spec else 'The deployment'}: a deployment needs a model.")
    endpoint = data["endpoint_name"]
    body = _deployment_body(ctx, spec, data)
    try:
        created = ctx.client.post(ctx.ws_path("online-endpoints", endpoint, "deployments"), json=body)
        if ctx.args.all_traffic:
            current = ctx.client.get(ctx.ws_path("online-endpoints", endpoint)).get("deployments") or []
            traffic = {name: 0 for name in current} | {created["name"]: 100}
            ctx.client.patch(ctx.ws_path("online-endpoints", endpoint), json={"traffic": traffic})
            info(f"All of {endpoint}'s traffic now goes to {created['name']}.")
    except ApiError as exc:
        raise _located(spec, exc) from None
    info(f"Deployment {endpoint}/{created['name']} created; its instances start in the background.")
    emit(created, ctx.output)
    return 0


def cmd_deployment_update(ctx: Context) -> int:
    spec, data = _deployment_spec(ctx)
    endpoint, name = data["endpoint_name"], data["name"]
    body = _deployment_body(ctx, spec, data)
    body.pop("name", None)
    body.pop("endpoint_name", None)
    if not body:
        raise CLIError("Nothing to change: give --file or --set (for example --set instance_count=2).")
    try:
        updated = ctx.client.patch(ctx.ws_path("online-endpoints", endpoint, "deployments", name), json=body)
    except ApiError as exc:
        raise _located(spec, exc) from None
    emit(updated, ctx.output)
    return 0


def cmd_deployment_show(ctx: Context) -> int:
    args = ctx.args
    emit(ctx.client.get(ctx.ws_path("online-endpoints", args.endpoint_name, "deployments", args.name)), ctx.output)
    return 0


def cmd_deployment_list(ctx: Context) -> int:
    found = ctx.client.list_all(ctx.ws_path("online-endpoints", ctx.args.endpoint_name, "deployments"))
    emit(found, ctx.output, DEPLOYMENT_COLUMNS)
    return 0


def cmd_deployment_delete(ctx: Context) -> int:
    args = ctx.args
    if not _confirm(ctx, f"Delete the deployment {args.endpoint_name}/{args.name}?"):
        info("Nothing deleted.")
        return 1
    ctx.client.delete(ctx.ws_path("online-endpoints", args.endpoint_name, "deployments", args.name))
    info(f"Deleted the deployment {args.endpoint_name}/{args.name}.")
    return 0


def cmd_get_logs(ctx: Context) -> int:
    args = ctx.args
    path = ctx.ws_path("online-endpoints", args.endpoint_name, "deployments", args.name, "logs")
    offset, text = 0, []
    while True:  # everything written so far, in pieces
        part = ctx.client.get(path, params={"offset": offset})
        if not part.get("content"):
            break
        text.append(part["content"])
        offset = part["offset"]
    whole = "".join(text)
    if args.lines is not None:
        whole = "".join(whole.splitlines(keepends=True)[-args.lines :]) if args.lines > 0 else ""
    sys.stdout.write(whole)
    sys.stdout.flush()
    while args.follow:
        time.sleep(LOG_POLL_SECONDS)
        part = ctx.client.get(path, params={"offset": offset})
        if part.get("content"):
            sys.stdout.write(part["content"])
            sys.stdout.flush()
            offset = part["offset"]
    return 0
