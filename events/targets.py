"""Where webhooks may be sent: http(s) URLs of public hosts only.

Loopback, private, link-local, shared, reserved and multicast addresses are refused unless
``WEBHOOKS_ALLOW_PRIVATE_TARGETS`` is on (a studio whose integrations run on its own network,
or the test suite). An IPv6 address that wraps an IPv4 one (mapped, compatible, NAT64, 6to4,
Teredo) is judged by the IPv4 address inside as well. The same rule is applied to the literal
host when an endpoint is saved, to what its name resolves to at that moment, and to the address
each delivery actually connects to.
"""

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")


def private_targets_allowed() -> bool:
    return settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS


# IPv6 prefixes whose last 32 bits are an IPv4 address the packet ends up at: IPv4-compatible
# (deprecated, but still routed by some stacks) and the well-known NAT64 prefix (RFC 6052).
_LOW_BITS_IPV4_PREFIXES = (ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("64:ff9b::/96"))
# The local-use NAT64 prefix (RFC 8215) lets each network choose where the IPv4 sits, so there is
# nothing reliable to unwrap; it only ever translates inside a private network, so it is refused.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses that ``ip`` translates or tunnels to (IPv4-mapped ones are handled apart)."""
    if any(ip in prefix for prefix in _LOW_BITS_IPV4_PREFIXES):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour:
        return [ip.sixtofour]
    if ip.teredo:
        return list(ip.teredo)
    return []


def refused_address(address: str) -> bool:
    """True when ``address`` is not a public unicast address, or wraps an IPv4 one that is not."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv4Address):
        return _not_public(ip)
    if ip in _LOCAL_NAT64:
        return True
    if ip.ipv4_mapped:
        return _not_public(ip.ipv4_mapped)
    return _not_public(ip) or any(_not_public(inner) for inner in _embedded_ipv4(ip))


def _not_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not ip.is_global or ip.is_multicast


def check_target(url: str, *, resolve: bool) -> None:
    """Raise ValidationError (on ``url``) unless it is an http(s) URL of a public host.

    With ``resolve`` the host name is looked up as well and refused when any of its addresses is
    not public; a name that does not resolve yet is accepted, since every delivery checks again.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError({"url": "Enter a valid URL."}) from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError({"url": "Webhook URLs must start with http:// or https://."})
    if not parts.hostname:
        raise ValidationError({"url": "The URL has no host."})
    if parts.username or parts.password:
        raise ValidationError({"url": "Credentials do not belong in the URL; the signature authenticates us."})
    if private_targets_allowed():
        return
    host = parts.hostname.rstrip(".")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
            raise ValidationError({"url": "Webhooks cannot be sent to local host names."}) from None
        addresses = _resolve(host, port) if resolve else []
    refused = next((address for address in addresses if refused_address(address)), None)
    if refused:
        raise ValidationError(
            {"url": f"Webhooks cannot be sent to loopback, private or link-local addresses ({refused})."}
        )


def _resolve(host: str, port: int | None) -> list[str]:
    """The addresses ``host`` resolves to; none when it does not resolve within
    ``WEBHOOKS_TIMEOUT`` seconds (the system's resolver has no timeout of its own to give: a slow
    DNS server would hold the request that adds the endpoint)."""
    lookup = ThreadPoolExecutor(max_workers=1)
    try:
        infos = lookup.submit(socket.getaddrinfo, host, port or 443, proto=socket.IPPROTO_TCP).result(
            timeout=settings.WEBHOOKS_TIMEOUT
        )
    except (OSError, UnicodeError, TimeoutError):
        return []
    finally:
        lookup.shutdown(wait=False)  # a lookup that hangs ends on its own, in its own thread
    return sorted({info[4][0] for info in infos})
