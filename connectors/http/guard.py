"""The HTTP guard every network connector goes through: which URLs, which addresses.

A request is allowed only when

- its scheme is ``http`` or ``https`` (``file://``, ``gopher://``, ... are refused), it carries no
  user name or password, and its path has no encoded dots or slashes;
- it falls under one of the settings' ``allow`` entries: a URL prefix (``https://api.example.com/v1``:
  same scheme, host and port, and a path at or below ``/v1``) or a bare host (``api.example.com``,
  ``api.example.com:8443``: any path, http or https); ``*.example.com`` matches subdomains and
  ``https://*`` any host (the address rules below still apply);
- the host name, resolved once, gives only addresses that are public, or private ones the settings
  allow (``allow_private`` for loopback/private/link-local; ``private_networks`` for exact networks).
  Cloud metadata addresses, multicast, reserved and unspecified addresses are refused unless a
  ``private_networks`` entry names them. IPv4 inside IPv6 (mapped, 6to4, NAT64, Teredo) is checked as
  the IPv4 address it carries.

The caller then connects to the address that was checked (:mod:`connectors.http.client`), never
resolving the name again, so a name that changes its answer (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import posixpath
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from framework.errors import ToolRefusedError

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = {"http": 80, "https": 443}
METADATA = [ipaddress.ip_network(n) for n in (
    "169.254.169.254/32", "169.254.170.2/32", "169.254.169.123/32", "fd00:ec2::254/128",
    "100.100.100.200/32", "192.0.0.192/32")]
NAT64 = ipaddress.ip_network("64:ff9b::/96")
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to ask for there."""

    url: str          # normalised URL with the host name (for Host, SNI, redirects, messages)
    scheme: str
    host: str         # lower-case host name or IP literal, without brackets
    port: int
    path: str         # path plus ?query, as sent on the request line
    address: str      # the checked IP address to connect to

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port

    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def ip_url(self) -> str:
        """The URL with the checked address in place of the name (what the client connects to)."""
        ip = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{ip}:{self.port}{self.path}"


@dataclass(frozen=True)
class _Prefix:
    scheme: str | None  # None: http or https
    host: str
    port: int | None    # None: the scheme's default
    path: str           # "" for any path

    def covers(self, scheme: str, host: str, port: int, path: str) -> bool:
        if self.scheme is not None and scheme != self.scheme:
            return False
        want_port = self.port if self.port is not None else DEFAULT_PORTS[scheme]
        if not self._host_matches(host) or port != want_port:
            return False
        base = self.path.rstrip("/")
        return not base or path == base or path.startswith(base + "/")

    def _host_matches(self, host: str) -> bool:
        if self.host == "*":
            return True
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host


def _refuse(message: str) -> ToolRefusedError:
    return ToolRefusedError(message)


def _split(url: str, what: str = "URL") -> tuple[str, str, int, str, str]:
    """scheme, host, port, path, query of ``url``; refuses anything but plain http(s) URLs."""
    if not isinstance(url, str) or not url.strip():
        raise _refuse(f"refused {what} {url!r}: give an absolute http:// or https:// URL")
    if any(ord(c) < 33 or c == "\\" for c in url.strip()):
        raise _refuse(f"refused {what} {url[:200]!r}: spaces, control characters and backslashes "
                      "are not allowed in URLs")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise _refuse(f"refused {what} {url[:200]!r}: only http:// and https:// URLs are allowed, "
                      f"not {scheme or 'a relative URL'}")
    if parts.username is not None or parts.password is not None:
        raise _refuse(f"refused {what} {url[:200]!r}: user names or passwords in URLs are not "
                      "allowed; put credentials in the 'headers' setting as env:NAME references")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise _refuse(f"refused {what} {url[:200]!r}: bad port ({exc})") from None
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise _refuse(f"refused {what} {url[:200]!r}: it names no host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _refuse(f"refused {what} {url[:200]!r}: its host name is not valid") from None
    return scheme, host, port, _normal_path(parts.path, url), parts.query


def _normal_path(path: str, url: str) -> str:
    lowered = path.lower()
    if "%2e" in lowered or "%2f" in lowered or "%5c" in lowered:
        raise _refuse(f"refused URL {url[:200]!r}: encoded dots or slashes in the path are not "
                      "allowed; write the path plainly")
    if not path:
        return "/"
    clean = posixpath.normpath(path)
    clean = "/" + clean.lstrip("/")
    if path.endswith("/") and not clean.endswith("/"):
        clean += "/"
    return quote(clean, safe="/%:@!$&'()*+,;=-._~")


def parse_allow(entry: str) -> _Prefix:
    """One ``allow`` entry as a prefix; a bad one is a ToolRefusedError naming it."""
    text = entry.strip()
    if "://" in text:
        scheme, host, port, path, _ = _split(text, "allow entry")
        explicit = urlsplit(text).port is not None
        return _Prefix(scheme, host, port if explicit else None, path if path != "/" else "")
    parts = urlsplit("http://" + text)
    if not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise _refuse(f"refused allow entry {entry!r}: give a URL prefix (https://host/path) or a "
                      "host (host or host:port)")
    _, host, _, _, _ = _split("http://" + text, "allow entry")
    return _Prefix(None, host, parts.port, "")


def parse_networks(entries: list[str]) -> list[Network]:
    out = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise _refuse(f"refused private_networks entry {entry!r}: give a network such as "
                          "'127.0.0.1/32' or '10.1.0.0/16'") from None
    return out


def _embedded_v4(ip: IP) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: IP, allow_private: bool, networks: list[Network]) -> str | None:
    """Why ``ip`` may not be reached under these settings, or None when it may."""
    if any(ip in net for net in networks if net.version == ip.version):
        return None
    inner = _embedded_v4(ip)
    if inner is not None:
        problem = address_problem(inner, allow_private, networks)
        return None if problem is None else f"{problem} (inside IPv6 {ip})"
    if any(ip in net for net in METADATA if net.version == ip.version):
        return f"{ip} is a cloud metadata address"
    if ip.is_loopback:
        return None if allow_private else f"{ip} is a loopback address"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved or ip in THIS_NETWORK:
        return f"{ip} is an unspecified, multicast or reserved address"
    if ip.is_private or ip.is_link_local or not ip.is_global:
        return None if allow_private else f"{ip} is a loopback, private or link-local address"
    return None


_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="openbuilder-dns")


def _lookup(host: str, port: int, timeout: float) -> list[Any]:
    """``getaddrinfo`` bounded in time (a resolver that hangs cannot hold the call)."""
    future = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        raise _refuse(f"refused host {host!r}: its name did not resolve within {timeout:g} s") \
            from None
    except (socket.gaierror, UnicodeError) as exc:
        raise _refuse(f"refused host {host!r}: its name does not resolve ({exc})") from None


class Guard:
    """Checks URLs against ``allow`` and the addresses their names resolve to."""

    def __init__(self, allow: list[str], allow_private: bool = False,
                 private_networks: list[str] | None = None, setting: str = "allow",
                 dns_timeout: float = 10.0) -> None:
        self.allow = list(allow)
        self.prefixes = [parse_allow(a) for a in allow]
        self.allow_private = allow_private
        self.networks = parse_networks(private_networks or [])
        self.setting = setting
        self.dns_timeout = dns_timeout

    def check_url(self, url: str) -> tuple[str, str, int, str, str]:
        """The URL's parts when it is allowed by scheme and prefix (no name lookup yet)."""
        scheme, host, port, path, query = _split(url)
        if not any(p.covers(scheme, host, port, path) for p in self.prefixes):
            allowed = ", ".join(self.allow) or "nothing"
            raise _refuse(f"refused URL {url[:200]!r}: it is not under the '{self.setting}' "
                          f"setting ({allowed}); add its prefix there to allow it")
        return scheme, host, port, path, query

    def resolve(self, host: str, port: int) -> str:
        """Resolve ``host`` once and return the address to connect to; every address it gives
        must be allowed."""
        try:
            literal: IP | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            found = [literal]
        else:
            infos = _lookup(host, port, self.dns_timeout)
            found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        for ip in found:
            problem = address_problem(ip, self.allow_private, self.networks)
            if problem:
                raise _refuse(f"refused host {host!r}: {problem}; set 'allow_private' (or list "
                              "the network in 'private_networks') to allow it")
        if not found:
            raise _refuse(f"refused host {host!r}: its name gives no address")
        return str(found[0])

    def target(self, url: str) -> Target:
        """Check ``url`` (scheme, prefix, then the resolved addresses) and pin its address."""
        scheme, host, port, path, query = self.check_url(url)
        address = self.resolve(host, port)
        full_path = path + (f"?{query}" if query else "")
        target = Target("", scheme, host, port, full_path, address)
        normal = urlunsplit((scheme, target.host_header(), path, query, ""))
        return Target(normal, scheme, host, port, full_path, address)
