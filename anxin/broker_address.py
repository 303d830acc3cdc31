"""Where a broker listens and how to log in to it; with fallbacks, the nodes of one cluster (pure)."""

from __future__ import annotations

from pydantic import ConfigDict, field_validator
from pydantic.dataclasses import dataclass as settings_dataclass

Endpoint = tuple[str, int]


class EndpointError(ValueError):
    """A fallback address that is not `host:port`."""


def parse_endpoint(text: str, default_port: int) -> Endpoint:
    """`host:port`, `[v6 address]:port`, or a bare `host` (the primary's port); raises EndpointError."""
    value = text.strip()
    if "://" in value or "/" in value:
        raise EndpointError(f"{text!r}: write host:port (e.g. 10.0.0.12:1883), without a scheme or path")
    host, port = value, str(default_port)
    if value.startswith("["):  # [::1]:1883
        end = value.find("]")
        rest = value[end + 1 :]
        if end < 0 or (rest and not rest.startswith(":")):
            raise EndpointError(f"{text!r}: an IPv6 address is written [address]:port")
        host, port = value[1:end], rest[1:] or port
    elif value.count(":") == 1:
        host, port = value.split(":")
    elif ":" in value:
        raise EndpointError(f"{text!r}: write an IPv6 address in brackets, [address]:port")
    if not host:
        raise EndpointError(f"{text!r}: the host is missing")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise EndpointError(f"{text!r}: the port must be a number from 1 to 65535")
    return host, int(port)


def format_endpoint(endpoint: Endpoint) -> str:
    """`host:port` as people write it (IPv6 in brackets)."""
    host, port = endpoint
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@settings_dataclass(frozen=True, slots=True, config=ConfigDict(extra="forbid"))
class BrokerAddress:
    """Where a broker listens and how to log in to it: the one type both settings objects use.

    Validated (pydantic), so a field of the gateway's YAML or an ANXIN_* variable is checked as
    it is read and a misspelt key is an error; still built positionally like a plain dataclass.
    `fallbacks` are the other nodes of the same cluster ("host:port" each; a bare host means this
    port): the link moves to the next one when a connection fails or drops. Credentials and TLS
    are the same for every node.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    keepalive: int = 30
    fallbacks: tuple[str, ...] = ()

    @field_validator("fallbacks")
    @classmethod
    def _fallbacks_are_endpoints(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            parse_endpoint(text, 1883)  # EndpointError is a ValueError: pydantic reports it with the field
        return value

    def endpoints(self) -> tuple[Endpoint, ...]:
        """Every node to try, the primary first, each once."""
        found: list[Endpoint] = [(self.host, self.port)]
        for text in self.fallbacks:
            endpoint = parse_endpoint(text, self.port)
            if endpoint not in found:
                found.append(endpoint)
        return tuple(found)

    def describe(self) -> str:
        """The nodes as people write them: `a:1883 (then b:1883, c:1883)`."""
        first, *rest = (format_endpoint(e) for e in self.endpoints())
        return f"{first} (then {', '.join(rest)})" if rest else first
