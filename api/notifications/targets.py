"""Which URLs a webhook may point at.

Only ``http`` and ``https``, with a host, without credentials or a fragment. Unless
``allow_private_networks`` is set, a target must not be loopback, private,
link-local, multicast or otherwise reserved: checked on the literal host when the
webhook is registered, and on every address the host resolves to before each
delivery, so a party cannot make the service call into its own network.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from api.notifications.errors import InvalidWebhookUrlError

MAX_URL_LENGTH = 2048
_LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def check_url(url: str, *, allow_private_networks: bool) -> str:
    """The URL if acceptable (module docstring).

    Raises:
        InvalidWebhookUrlError: with the reason.
    """
    if len(url) > MAX_URL_LENGTH or not url.isprintable() or " " in url:
        raise InvalidWebhookUrlError(f"at most {MAX_URL_LENGTH} printable characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as err:
        raise InvalidWebhookUrlError("not a URL") from err
    if parts.scheme not in ("http", "https"):
        raise InvalidWebhookUrlError("the scheme must be http or https")
    if not parts.hostname:
        raise InvalidWebhookUrlError("a host is required")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrlError("credentials in the URL are not accepted")
    if parts.fragment:
        raise InvalidWebhookUrlError("a fragment is not accepted")
    if not allow_private_networks and _is_private_literal(parts.hostname):
        raise InvalidWebhookUrlError("loopback and private addresses are not accepted")
    return url


def _is_private_literal(host: str) -> bool:
    if host.lower().rstrip(".") in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def resolves_to_public(url: str) -> bool:
    """Whether every address of the URL's host is a public one."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if _is_private_literal(host):
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(
        ipaddress.ip_address(str(address).split("%")[0]).is_global
        for address in addresses
    )
