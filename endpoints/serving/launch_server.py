"""Starts Azure's inference server for one deployment instance (run as `python -c <this source>`
inside the sandbox, so it needs no file of its own there).

Before the server starts, the instance's secret is read from the file named by
STUDIO_INSTANCE_KEY_FILE, and that file and variable are removed: the scoring script's `init()` and
`run()` find it neither in os.environ (which scripts like to log) nor on disk. Every request to the
server (scoring, liveness, swagger) must then carry it in X-Studio-Instance-Key, or gets 401: a
process on the same host or network that finds the port still cannot call the model without the
endpoint key the router checks. The check wraps Flask's WSGI entry, so gunicorn's forked workers
inherit it. STUDIO_INSTANCE_HOST is the address the server binds to (the node's advertised one).
"""

import hmac
import os
import sys

_key_file = os.environ.pop("STUDIO_INSTANCE_KEY_FILE")
with open(_key_file, "rb") as _handle:
    _KEY = _handle.read().strip()
os.unlink(_key_file)
_HOST = os.environ.pop("STUDIO_INSTANCE_HOST", "127.0.0.1")
if not _KEY:
    sys.exit("The instance's key file was empty: refusing to serve without a key.")

import flask  # noqa: E402 - after the key is out of the environment

_serve = flask.Flask.__call__
_DENIED = b'{"message": "This instance answers only its endpoint\'s router (X-Studio-Instance-Key)."}'


def _guarded(app, environ, start_response):
    offered = environ.get("HTTP_X_STUDIO_INSTANCE_KEY", "").encode("latin-1")
    if hmac.compare_digest(offered, _KEY):
        return _serve(app, environ, start_response)
    start_response("401 Unauthorized", [("Content-Type", "application/json"), ("Content-Length", str(len(_DENIED)))])
    return [_DENIED]


flask.Flask.__call__ = _guarded

import azureml_inference_server_http.amlserver as server  # noqa: E402

server.DEFAULT_HOST = _HOST  # its own default is 0.0.0.0
sys.argv[0] = "azmlinfsrv"
sys.exit(server.run())
