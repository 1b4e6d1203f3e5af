"""The web pages (web/) on 127.0.0.1 for the local stack, as CloudFront serves them deployed.

A plain static file server with two additions that only exist locally:
- `/config.js` is generated: the API's URL (and no Cognito), as the deploy writes it to the bucket;
- `/dev/token?sub=…&role=…` mints a dev token (AUTH_MODE=dev only), so the member and back-office
  pages can sign in without a terminal. Deployed there is no such route: the pages use Cognito.
"""

from __future__ import annotations

import json
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
ROLES = {"member", "backoffice"}


def config_js(settings: dict[str, Any]) -> bytes:
    """The pages' runtime configuration, the same shape as web/config.js."""
    return f"window.APP_CONFIG = {json.dumps(settings, indent=2, sort_keys=True)};\n".encode()


class WebHandler(SimpleHTTPRequestHandler):
    settings: dict[str, Any] = {}

    def end_headers(self) -> None:
        # what CloudFront's response headers policy sets deployed (infra/template.py)
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        super().end_headers()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/config.js":
            self._send(HTTPStatus.OK, "text/javascript; charset=utf-8", config_js(self.settings))
        elif url.path == "/dev/token":
            self._dev_token(parse_qs(url.query))
        else:
            super().do_GET()

    def _dev_token(self, params: dict[str, list[str]]) -> None:
        from chalicelib.auth import mint_dev_token

        sub = (params.get("sub") or [""])[0].strip()
        role = (params.get("role") or ["member"])[0]
        if not sub or len(sub) > 64 or role not in ROLES:
            body = {"code": "INVALID_REQUEST", "message": "sub (1-64 characters) and role member|backoffice"}
            self._send(HTTPStatus.BAD_REQUEST, "application/json", json.dumps(body).encode())
            return
        token = mint_dev_token(sub, [role])
        self._send(HTTPStatus.OK, "application/json", json.dumps({"token": token, "sub": sub, "role": role}).encode())

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the API's log is the one to read; static files are noise


def start_web_server(host: str, port: int, api_url: str) -> ThreadingHTTPServer:
    """Serve web/ on host:port in a daemon thread; `shutdown()` + `server_close()` stop it."""
    handler = type(
        "LocalWebHandler", (WebHandler,), {"settings": {"apiUrl": api_url, "cognito": None, "devTokens": True}}
    )
    server = ThreadingHTTPServer((host, port), partial(handler, directory=str(WEB_ROOT)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
    return server
