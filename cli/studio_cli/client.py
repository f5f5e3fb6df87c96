"""A thin HTTP client of Studio's REST API (`/api/v1/…`): bearer token, JSON in and out,
server errors turned into `ApiError` carrying the server's one-line `detail`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import requests

from studio_cli import __version__
from studio_cli.errors import ApiError, CLIError

TIMEOUT = (10, 120)  # connect, read (seconds)


def q(part: str) -> str:
    """Quote one path segment (names may hold characters such as '@')."""
    return quote(str(part), safe="")


class Client:
    def __init__(self, url: str, token: str | None = None, *, auth: tuple[str, str] | None = None):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"studio-cli/{__version__}"
        self.session.headers["Accept"] = "application/json"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        if auth:
            self.session.auth = auth

    def api(self, path: str) -> str:
        return f"{self.url}/api/v1/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, expect_json: bool = True, **kwargs) -> Any:
        response = self.raw(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        if not expect_json:
            return response
        try:
            return response.json()
        except ValueError:
            raise CLIError(f"{method} {self.api(path)} answered with something that is not JSON.")

    def raw(self, method: str, path: str, *, stream: bool = False, timeout=TIMEOUT, **kwargs) -> requests.Response:
        """Send a request; any non-2xx answer raises ApiError."""
        url = path if path.startswith("http") else self.api(path)
        try:
            response = self.session.request(method, url, stream=stream, timeout=timeout, **kwargs)
        except requests.ConnectionError as exc:
            raise CLIError(f"Cannot reach {self.url}: {_reason(exc)}")
        except requests.Timeout:
            raise CLIError(f"{self.url} did not answer in time.")
        if response.status_code >= 400:
            raise self._error(response, method, url)
        return response

    def _error(self, response: requests.Response, method: str, url: str) -> ApiError:
        detail, errors = None, {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            detail = body.get("detail")
            errors = body.get("errors") or {}
            if detail is None and errors == {}:  # a DRF-shaped body that skipped our handler
                errors = {k: v for k, v in body.items() if isinstance(v, (list, str))}
                detail = next((f"{k}: {v[0] if isinstance(v, list) else v}" for k, v in errors.items()), None)
        if not detail:
            detail = f"{response.status_code} {response.reason} for {method} {url}"
        if response.status_code == 401:
            errors = {}
            detail = f"{detail.rstrip('.')}. Run `studio login --url {self.url}` to log in again."
        return ApiError(response.status_code, str(detail), errors if isinstance(errors, dict) else {})

    def get(self, path: str, **kwargs) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs) -> Any:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs) -> Any:
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs) -> Any:
        return self.request("DELETE", path, **kwargs)

    def list_all(self, path: str, params: dict | None = None, *, limit: int | None = None) -> list[dict]:
        """Every item of a list endpoint, following `next` links of paginated answers."""
        return list(self.iter_list(path, params, limit=limit))

    def iter_list(self, path: str, params: dict | None = None, *, limit: int | None = None) -> Iterator[dict]:
        params = dict(params or {})
        params.setdefault("page_size", 200)
        page: Any = self.get(path, params=params)
        count = 0
        while True:
            items = page.get("results", []) if isinstance(page, dict) else (page or [])
            for item in items:
                if limit is not None and count >= limit:
                    return
                count += 1
                yield item
            if not isinstance(page, dict) or not page.get("next"):
                return
            page = self.get(page["next"])


def _reason(exc: requests.ConnectionError) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host", "timed out"):
        if marker in text:
            return marker
    return text.splitlines()[0][:200] if text else "connection failed"
