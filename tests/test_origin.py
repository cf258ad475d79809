"""The real server answers only its own origin: HTTP routes, the socket.io handshake and its
websocket upgrade refuse a foreign Origin or an unexpected Host (DNS rebinding) with 403."""

from __future__ import annotations

import base64
import http.client
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.config import Settings, get_settings
from bot.errors import ConfigError
from bot.web.launch import RunningApp, running_app
from bot.web.server import allowed_origins

HANDSHAKE = "/ws/socket.io/?EIO=4&transport=polling"
UPGRADE = "/ws/socket.io/?EIO=4&transport=websocket"
PUBLIC = "https://interview.example.org"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    workdir = tmp_path_factory.mktemp("origin")
    os.environ["INTERVIEW_BOT_PUBLIC_ORIGIN"] = PUBLIC  # read by the server it starts
    get_settings.cache_clear()
    try:
        with running_app(workdir) as app:
            yield app
    finally:
        del os.environ["INTERVIEW_BOT_PUBLIC_ORIGIN"]
        get_settings.cache_clear()


def status(app: RunningApp, path: str, headers: dict[str, str]) -> int:
    parts = urlsplit(app.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=20)
    try:
        conn.putrequest("GET", path, skip_host="Host" in headers)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def upgrade_status(app: RunningApp, headers: dict[str, str]) -> int:
    """The status line of a websocket upgrade of the socket.io endpoint (101 when accepted)."""
    parts = urlsplit(app.url)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {UPGRADE} HTTP/1.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        first = sock.recv(4096).split(b"\r\n", 1)[0]
    return int(first.split()[1])


def test_the_served_origin_works_and_a_foreign_one_is_refused(server: RunningApp) -> None:
    own = server.url
    host = urlsplit(own).netloc
    port = urlsplit(own).port
    assert status(server, "/", {"Host": host}) == 200
    assert status(server, "/", {"Host": host, "Origin": own}) == 200
    assert (
        status(server, "/", {"Host": f"localhost:{port}", "Origin": f"http://localhost:{port}"})
        == 200
    )
    assert status(server, HANDSHAKE, {"Host": host, "Origin": own}) == 200
    assert upgrade_status(server, {"Host": host, "Origin": own}) == 101

    evil = "http://evil.example"
    assert status(server, "/", {"Host": host, "Origin": evil}) == 403
    assert status(server, "/project/settings", {"Host": host, "Origin": evil}) == 403
    assert status(server, HANDSHAKE, {"Host": host, "Origin": evil}) == 403
    assert upgrade_status(server, {"Host": host, "Origin": evil}) == 403
    assert status(server, "/", {"Host": host, "Origin": "null"}) == 403
    assert status(server, "/", {"Host": host, "Origin": f"http://127.0.0.1:{port + 1}"}) == 403


def test_dns_rebinding_is_refused_and_the_public_origin_allowed(server: RunningApp) -> None:
    port = urlsplit(server.url).port
    rebound = f"evil.example:{port}"  # a foreign name resolved to 127.0.0.1
    assert status(server, "/", {"Host": rebound}) == 403
    assert status(server, HANDSHAKE, {"Host": rebound, "Origin": f"http://{rebound}"}) == 403
    assert upgrade_status(server, {"Host": rebound, "Origin": f"http://{rebound}"}) == 403
    public_host = urlsplit(PUBLIC).netloc  # what a proxy in front of the app passes on
    assert status(server, "/", {"Host": public_host, "Origin": PUBLIC}) == 200
    assert upgrade_status(server, {"Host": public_host, "Origin": PUBLIC}) == 101


def test_chainlits_cors_allows_the_served_origins_only(server: RunningApp) -> None:
    config = (Path(server.log).parent / "web" / ".chainlit" / "config.toml").read_text()
    port = urlsplit(server.url).port
    assert f'allow_origins = ["http://127.0.0.1:{port}", ' in config
    assert f'"{PUBLIC}"]' in config and '"*"' not in config


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"]),
        ("0.0.0.0", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"]),
        ("10.1.2.3", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000",
                      "http://10.1.2.3:8000"]),
        ("fd00::5", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000",
                     "http://[fd00::5]:8000"]),
    ],
)  # fmt: skip
def test_allowed_origins(host: str, expected: list[str]) -> None:
    assert allowed_origins(host, 8000) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://Interview.Example.org/", "https://interview.example.org"),
        ("http://10.0.0.7:8080", "http://10.0.0.7:8080"),
        ("", None),
        ("interview.example.org", ConfigError),
        ("https://interview.example.org/app", ConfigError),
        ("ftp://interview.example.org", ConfigError),
    ],
)
def test_the_public_origin_setting(
    given: str, expected: str | type[Exception] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERVIEW_BOT_PUBLIC_ORIGIN", given)
    get_settings.cache_clear()
    if isinstance(expected, type):
        with pytest.raises(expected, match="INTERVIEW_BOT_PUBLIC_ORIGIN|public_origin"):
            get_settings()
    else:
        assert get_settings().public_origin == expected
        assert Settings(public_origin=given).public_origin == expected
