"""The scoring script of an MLflow model deployed with no script of its own, run by
azureml-inference-server-http (init() once, run() per request) with AZUREML_MODEL_DIR set.

It accepts Azure ML's body `{"input_data": {"columns": [...], "index": [...], "data": [...]}}`
(or a list, for tensors) and MLflow's scoring-server bodies (`dataframe_split`,
`dataframe_records`, `instances`, `inputs`, with optional `params`), parsed by MLflow's own
scoring server helpers, and answers `{"predictions": ...}` as `mlflow models serve` does.
A body the model cannot take is a 400 with MLflow's message.
"""

import io
import json
import os

model = None
schema = None


def _model_folder(root):
    """The folder holding the MLmodel file: the model dir itself or its only MLmodel subfolder."""
    if os.path.isfile(os.path.join(root, "MLmodel")):
        return root
    for dirpath, _dirs, files in sorted(os.walk(root)):
        if "MLmodel" in files:
            return dirpath
    raise RuntimeError(f"No MLmodel file under {root}: is this an MLflow model?")


def init():
    global model, schema
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(_model_folder(os.environ["AZUREML_MODEL_DIR"]))
    schema = model.metadata.get_input_schema()


def _as_mlflow_body(body):
    """Azure's `input_data` in MLflow's terms: a split frame, or tensors."""
    if "input_data" not in body:
        return body
    data = body["input_data"]
    params = {"params": body["params"]} if "params" in body else {}
    if isinstance(data, dict) and "data" in data:
        return {"dataframe_split": data, **params}
    return {"inputs": data, **params}


def _answer(message, status):
    from azureml_inference_server_http.api.aml_response import AMLResponse

    return AMLResponse({"error": message}, status, json_str=True)


def run(raw_data):
    from mlflow.exceptions import MlflowException
    from mlflow.pyfunc import scoring_server

    try:
        body = json.loads(raw_data) if isinstance(raw_data, (str, bytes)) else raw_data
    except ValueError:
        return _answer("The body is not JSON.", 400)
    if not isinstance(body, dict):
        return _answer(
            "Send an object: {'input_data': {'columns': [...], 'data': [...]}}, or MLflow's "
            "dataframe_split, dataframe_records, instances or inputs.",
            400,
        )
    body = _as_mlflow_body(body)
    params = body.pop("params", None)
    try:
        data = scoring_server.infer_and_parse_data(body, schema)
        predictions = model.predict(data, params=params) if params else model.predict(data)
    except MlflowException as exc:
        return _answer(exc.message, 400)
    out = io.StringIO()
    scoring_server.predictions_to_json(predictions, out)
    return json.loads(out.getvalue())
