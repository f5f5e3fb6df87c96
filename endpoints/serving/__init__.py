"""Scripts that run inside user environments (never imported by Studio itself): the pyfunc
scoring script of no-script MLflow deployments and the batch scoring drivers."""
