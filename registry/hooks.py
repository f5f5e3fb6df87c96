"""Hooks through which higher apps add to the model pages without registry importing them
(the layer contract): a version page's head shows one button per registered link maker, e.g.
endpoints' "Deploy"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    primary: bool = False


# (request, workspace, version) -> a Link, or None when it does not apply (or is not allowed).
VersionLinkMaker = Callable[..., Link | None]
_VERSION_LINKS: list[VersionLinkMaker] = []


def register_version_link(maker: VersionLinkMaker) -> None:
    if maker not in _VERSION_LINKS:
        _VERSION_LINKS.append(maker)


def version_links(request, workspace, version) -> list[Link]:
    return [link for maker in _VERSION_LINKS if (link := maker(request, workspace, version)) is not None]
