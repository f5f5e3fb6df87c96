"""Azure ML curated environment names, answered by Studio's closest curated environment.

People port jobs that say `environment: azureml:AzureML-sklearn-1.5@latest` or
`AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:44`. Azure's version numbers mean nothing here, so the
framework in the name picks one of Studio's curated environments (its newest version), and the job
says in its system log which one it used.
"""

from __future__ import annotations

import re

AZURE_PREFIX = "azureml-"

# The framework word of an Azure ML curated name -> Studio's curated environment that has it.
# `ACPT-pytorch-…` (Azure Container for PyTorch) is PyTorch; Azure's `mlflow` image is scikit-learn's
# companions plus MLflow, which Studio-sklearn carries (mlflow-skinny).
FRAMEWORKS = {
    "sklearn": "Studio-sklearn-1.9",
    "scikit-learn": "Studio-sklearn-1.9",
    "mlflow": "Studio-sklearn-1.9",
    "pytorch": "Studio-pytorch-2.13-cpu",
    "torch": "Studio-pytorch-2.13-cpu",
    "lightgbm": "Studio-lightgbm-xgboost",
    "xgboost": "Studio-lightgbm-xgboost",
    "minimal": "Studio-minimal-py311",
    "python": "Studio-minimal-py311",
    "pandas": "Studio-data-prep",
}
# The curated environment with Azure's inference server, for deployments with a scoring script.
INFERENCE = "Studio-sklearn-1.9-inference"
_WORD = re.compile(r"[a-z][a-z-]*?(?=-\d|-ubuntu|-py\d|-cpu|-gpu|-cuda|$)")


def is_azure_curated(name: str) -> bool:
    return name.lower().startswith(AZURE_PREFIX)


def studio_name_for(name: str) -> str | None:
    """`AzureML-sklearn-1.0-ubuntu20.04-py38-cpu` -> "Studio-sklearn-1.9"; None for a name that is
    not an Azure ML curated one, or one whose framework Studio has no curated environment for."""
    if not is_azure_curated(name):
        return None
    rest = name[len(AZURE_PREFIX) :].lower()
    if rest.endswith("-inference"):  # Azure's serving images (`AzureML-minimal-ubuntu22.04-py39-cpu-inference`)
        return INFERENCE
    rest = rest.removeprefix("acpt-")
    match = _WORD.match(rest)
    return FRAMEWORKS.get(match[0]) if match else None


def note(ref: str, used: str) -> str:
    """The system-log line that says which curated environment answered an Azure ML name."""
    return (
        f"Environment {ref} is an Azure ML curated name; Studio used its closest curated environment, "
        f"{used} (Azure's version numbers do not apply here)."
    )
