"""MLflow's error shape: {"error_code": "INVALID_PARAMETER_VALUE", "message": "..."} with the
HTTP status MLflow's own server uses for that code."""

from __future__ import annotations

STATUS = {
    "INVALID_PARAMETER_VALUE": 400,
    "MALFORMED_REQUEST": 400,
    "INVALID_STATE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "NOT_IMPLEMENTED": 501,
}


class MlflowError(Exception):
    def __init__(self, message: str, code: str = "INVALID_PARAMETER_VALUE", status: int | None = None):
        super().__init__(message)
        self.message, self.code = message, code
        self.status = status or STATUS.get(code, 400)

    def payload(self) -> dict:
        return {"error_code": self.code, "message": self.message}
