"""The batch driver of an MLflow model deployed with no driver of its own (Azure ML's no-code
batch deployment): each file (CSV, or Parquet when pyarrow is there) is read with pandas and
scored with the pyfunc model; the rows are (file, prediction), as Azure writes them."""

import os

import pandas as pd

model = None


def _model_folder(root):
    if os.path.isfile(os.path.join(root, "MLmodel")):
        return root
    for dirpath, _dirs, files in sorted(os.walk(root)):
        if "MLmodel" in files:
            return dirpath
    raise RuntimeError(f"No MLmodel file under {root}: is this an MLflow model?")


def init():
    global model
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(_model_folder(os.environ["AZUREML_MODEL_DIR"]))


def _read(path):
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path)


def run(mini_batch):
    frames = []
    for path in mini_batch:
        data = _read(path)
        predictions = model.predict(data)
        if hasattr(predictions, "tolist"):
            predictions = predictions.tolist()
        frames.append(pd.DataFrame({"file": os.path.basename(path), "prediction": list(predictions)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["file", "prediction"])
