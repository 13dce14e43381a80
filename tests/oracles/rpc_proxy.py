"""A JSON-RPC proxy in front of a real node, for the daemons' tests: it forwards every call, except
those a test's `intercept` answers itself (a hostile or a flaky node), and keeps what it saw."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from tests.conftest import free_port

Intercept = Callable[[dict[str, Any]], dict[str, Any] | None]


class RpcProxy:
    DROP: ClassVar[dict[str, Any]] = {}  # what `intercept` returns to drop the connection without an answer

    def __init__(self, upstream: str, intercept: Intercept | None = None) -> None:
        self.upstream, self.intercept = upstream, intercept or (lambda request: None)
        self.seen: list[dict[str, Any]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = proxy.answer(request)
                if answer is RpcProxy.DROP:
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(answer).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        self.seen.append(request)
        if (own := self.intercept(request)) is not None:
            return own if own is RpcProxy.DROP else {"jsonrpc": "2.0", "id": request["id"], **own}
        forward = urllib.request.Request(
            self.upstream, json.dumps(request).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(forward, timeout=30) as response:
            return json.loads(response.read())

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [r for r in self.seen if r["method"] == method]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> RpcProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
