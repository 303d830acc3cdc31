"""Every HTTP request passes here first: trusted-proxy headers, a body limit, CSRF, security headers."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api.deps import SESSION_COOKIE
from server.settings import ServerSettings
from server.web import csrf

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Signing in has no session yet; a caregiver's or a helper's link is its own key and sets no cookie.
CSRF_EXEMPT = ("/console/login", "/api/v1/auth/token", "/c/", "/h/", "/f/", "/p/")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc load their own scripts from a CDN: they only get the framing rule.
DOCS_CSP = "frame-ancestors 'none'"
DOCS = ("/docs", "/redoc")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            text: str = value.decode("latin-1")  # ASGI headers are bytes pairs; the scope itself is untyped
            return text
    return None


def _plain(status: int, text: str) -> list[Message]:
    body = text.encode()
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


class SecurityGuard:
    """Pure ASGI middleware (streams such as server-sent events pass through untouched)."""

    def __init__(self, app: ASGIApp, settings: ServerSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then decorate every response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = self._behind_proxy(scope)
        path: str = scope["path"]
        if scope["method"] in UNSAFE:
            body, refusal = await self._read_body(scope, receive)
            if refusal is None:
                refusal = self._csrf_refusal(scope, body)
            if refusal is not None:
                for message in refusal:
                    await send(self._decorate(message, scope, path))
                return
            receive = self._replay(body)
        elif int(_header(scope, b"content-length") or 0) > self.settings.max_body_bytes:
            for message in _plain(413, "请求体过大 / request body too large"):
                await send(self._decorate(message, scope, path))
            return

        async def decorated(message: Message) -> None:
            await send(self._decorate(message, scope, path))

        await self.app(scope, receive, decorated)

    def _behind_proxy(self, scope: Scope) -> Scope:
        client = scope.get("client")
        if not client or client[0] not in self.settings.trusted_proxies:
            return scope
        scope = dict(scope)
        proto = _header(scope, b"x-forwarded-proto")
        if proto in ("http", "https"):
            scope["scheme"] = proto
        forwarded = _header(scope, b"x-forwarded-for")
        if forwarded:
            scope["client"] = (forwarded.split(",")[-1].strip(), 0)
        return scope

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, list[Message] | None]:
        limit = self.settings.max_body_bytes
        too_large = _plain(413, "请求体过大 / request body too large")
        if int(_header(scope, b"content-length") or 0) > limit:
            return b"", too_large
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", too_large
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks), None

    def _csrf_refusal(self, scope: Scope, body: bytes) -> list[Message] | None:
        if scope["path"].startswith(CSRF_EXEMPT) or _header(scope, b"authorization"):
            return None
        cookie = SimpleCookie(_header(scope, b"cookie") or "")
        session = cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else None
        if not session:
            return None  # no session: nothing to ride on; the route answers 401 / the sign-in page
        offered = _header(scope, csrf.HEADER.encode())
        if offered is None and (_header(scope, b"content-type") or "").startswith("application/x-www-form-urlencoded"):
            fields = parse_qs(body.decode("latin-1")).get(csrf.FIELD)
            offered = fields[0] if fields else None
        if csrf.is_valid(self.settings.secret_key or "", session, offered):
            return None
        return _plain(
            403, "请求缺少有效的安全令牌，请刷新页面后重试 / missing or wrong CSRF token: reload the page and try again"
        )

    @staticmethod
    def _replay(body: bytes) -> Receive:
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        return receive

    def _decorate(self, message: Message, scope: Scope, path: str) -> Message:
        if message["type"] != "http.response.start":
            return message
        headers: list[tuple[bytes, bytes]] = [
            (k, v)
            for k, v in message.get("headers", [])
            if k.lower() not in (b"cache-control",) or path.startswith("/static/")
        ]
        secure = self.settings.cookie_secure == "always" or (
            self.settings.cookie_secure == "auto" and scope.get("scheme") == "https"
        )
        if secure:
            headers = [
                (k, v + b"; Secure") if k.lower() == b"set-cookie" and b"secure" not in v.lower() else (k, v)
                for k, v in headers
            ]
        headers += [
            (b"content-security-policy", (DOCS_CSP if path.startswith(DOCS) else CSP).encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]
        if not path.startswith("/static/"):
            headers.append((b"cache-control", b"no-store"))
        if secure:
            headers.append((b"strict-transport-security", b"max-age=31536000"))
        out: dict[str, Any] = dict(message)
        out["headers"] = headers
        return out
