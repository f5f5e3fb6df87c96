"""The one check for addresses that members type in and Studio then connects to: attached Docker
engines (tcp://, ssh://, unix://), datastore endpoints (Azure `endpoint`, S3 `endpoint_url`) and
web inputs (https://…). Without it a member could make the server probe its own network: the
cloud metadata service, the database, Redis, admin ports on the LAN.

A host is resolved and refused when any of its addresses is loopback, private, link-local,
multicast, reserved or unspecified, unless STUDIO_ALLOW_PRIVATE_URLS is on or the address is in
STUDIO_PRIVATE_URL_NETWORKS. The answer never says which address a name resolved to.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError

ALLOW_HINT = "an administrator can allow it with STUDIO_ALLOW_PRIVATE_URLS or STUDIO_PRIVATE_URL_NETWORKS"


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(net, strict=False) for net in settings.STUDIO_PRIVATE_URL_NETWORKS]


def is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    # not global: loopback, private, link-local, shared (CGNAT), reserved and unspecified ranges.
    return not ip.is_global or ip.is_multicast


def resolve(host: str, port: int | None = None) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    return sorted({info[4][0] for info in infos})


def host_problem(host: str, port: int | None = None) -> str:
    """Why Studio must not connect to `host`, or ''."""
    if settings.STUDIO_ALLOW_PRIVATE_URLS:
        return ""
    addresses = resolve(host, port)
    if not addresses:
        return f"The host name {host!r} cannot be resolved."
    allowed = _allowed_networks()
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if is_internal(address) and not any(ip in net for net in allowed):
            return (
                f"{host!r} points to a loopback, private or link-local address, which Studio does not "
                f"connect to for members ({ALLOW_HINT})."
            )
    return ""


def check_url(url: str, *, field: str, schemes: tuple[str, ...] = ("https", "http"), allow_query: bool = False) -> str:
    """Return `url` stripped, or raise ValidationError({field: [...]}) saying what is wrong with it.

    Query strings and user:password parts are refused unless asked for: whatever they hold (a SAS
    token, a password) would be stored and shown as a plain connection field."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError({field: ["That is not a valid URL."]}) from None
    if parts.scheme not in schemes:
        raise ValidationError({field: [f"Use a {' or '.join(s + '://' for s in schemes)} URL."]})
    if not parts.hostname:
        raise ValidationError({field: ["The URL names no host."]})
    if (parts.query or parts.fragment or "?" in url) and not allow_query:
        raise ValidationError(
            {field: ["Remove the query string (?…): credentials such as SAS tokens go in the credentials fields."]}
        )
    if parts.password is not None or (parts.username is not None and parts.scheme in ("http", "https")):
        raise ValidationError({field: ["Remove user:password@ from the URL: use the credentials fields."]})
    problem = host_problem(parts.hostname, port)
    if problem:
        raise ValidationError({field: [problem]})
    return url


def without_secrets(url: str) -> str:
    """`url` as it may be shown: no query string, fragment or password (rows saved before these
    were refused may hold a SAS token there)."""
    if not url or not any(mark in url for mark in "?#@"):
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit((parts.scheme, user + host, parts.path, "", ""))
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]
