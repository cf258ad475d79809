"""A local HTTP server that speaks the OpenAI chat-completions and Anthropic messages wire formats,
with scripted replies and faults (429, 500, slow replies, malformed or schema-breaking output)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> sent as is
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def openai_completion(content: str, *, model: str = "gpt-4o-mini") -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content, "refusal": None},
            }
        ],
        "usage": {"prompt_tokens": 812, "completion_tokens": 164, "total_tokens": 976},
    }


def anthropic_tool_use(
    arguments: dict[str, Any], *, name: str = "LLMGradeOutput", model: str = "claude-haiku-4-5"
) -> dict[str, Any]:
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "tool_use", "id": "toolu_test", "name": name, "input": arguments}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 900, "output_tokens": 200},
    }


def anthropic_text(text: str, *, model: str = "claude-haiku-4-5") -> dict[str, Any]:
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 300, "output_tokens": 30},
    }


def error_body(status: int, message: str) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "server_error" if status >= 500 else "rate_limit_error",
            "code": None,
        }
    }


class FakeLLMServer:
    """Serves scripted replies in order; records every request body, header set and the client's
    port. With `keep_alive`, connections stay open (HTTP/1.1), so one SDK client keeps one port."""

    def __init__(
        self,
        *,
        keep_alive: bool = False,
        responder: Callable[[dict[str, Any]], Reply] | None = None,
    ) -> None:
        self.replies: list[Reply] = []
        self.responder = responder  # when set, answers every request from its body
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.ports: list[int] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self) -> None:
                server.ports.append(self.client_address[1])
                length = int(self.headers.get("content-length", 0))
                server.requests.append(
                    {"path": self.path, "body": json.loads(self.rfile.read(length) or b"{}")}
                )
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                reply = (
                    server.replies.pop(0)
                    if server.replies
                    else server.responder(server.requests[-1]["body"])
                    if server.responder
                    else Reply(500, error_body(500, "no scripted reply left"))
                )
                time.sleep(reply.delay)
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("content-length", str(len(payload.encode())))
                    self.end_headers()
                    self.wfile.write(payload.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FakeLLMServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
