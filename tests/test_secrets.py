"""Secrets stay secret: a user signs in with a password and submits while the LLM provider
refuses the API key and echoes it back (as OpenAI's 401 does), exports, ends the interview and
meets error pages; the password, its hash and the key are in no log, export, report, HTTP
response, websocket frame or file of the data dir but the database."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, WebSocket, expect, sync_playwright

from bot.accounts import SECRET_FILE, hash_password
from bot.store import AttemptStore
from bot.web.launch import CHROMIUM, CHROMIUM_ARGS, HOST, running_app
from tests.test_browser import GRADE_SECONDS, press, reply, say

PASSWORD = "pa55-Word-only-Ann-knows"
API_KEY = "sk-proj-FAKEfake0123456789abcdefSECRET"
ANSWER = "I would put a cache in front of the database and invalidate it on every write."


class _Refusing(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that refuses the key and quotes it back, whole."""

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        body = json.dumps(
            {"error": {"message": f"Incorrect API key provided: {key}", "code": "invalid_api_key"}}
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_llm() -> Iterator[str]:
    server = ThreadingHTTPServer((HOST, 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{HOST}:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


class Seen:
    """Every HTTP response body and websocket frame the browser received."""

    def __init__(self, page: Page) -> None:
        self.texts: list[str] = []
        page.on("response", self._response)
        page.on("websocket", self._socket)

    def _response(self, response: Response) -> None:
        try:
            self.texts.append(response.text())
        except Exception:  # noqa: BLE001 - redirects and aborted requests have no body
            self.texts.append(str(response.headers))

    def _socket(self, socket: WebSocket) -> None:
        socket.on("framereceived", lambda frame: self.texts.append(str(frame)))


def _download(page: Page, button: str, name: str, to: Path) -> str:
    page.get_by_role("button", name=button).last.click()
    expect(page.get_by_text(name).last).to_be_visible(timeout=30_000)
    with page.expect_download(timeout=30_000) as download:
        page.locator("a", has_text=name).last.click()
    download.value.save_as(to / name)
    return (to / name).read_text(encoding="utf-8")


def test_no_password_hash_or_api_key_leaves_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refusing_llm: str
) -> None:
    for name, value in {
        "INTERVIEW_BOT_PASSWORD_LOGIN": "true",
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": refusing_llm,
        "INTERVIEW_BOT_GRADER": "openai",
        "INTERVIEW_BOT_LLM_RETRIES": "0",
    }.items():
        monkeypatch.setenv(name, value)
    data_dir, hashed = tmp_path / "data", hash_password(PASSWORD)
    with AttemptStore.open(f"sqlite:///{data_dir / 'history.sqlite3'}") as store:
        store.add_user("ann", password_hash=hashed)
    secrets = (PASSWORD, hashed, API_KEY, API_KEY[-20:])
    with running_app(tmp_path / "app", data_dir=data_dir) as app, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(accept_downloads=True).new_page()
        seen = Seen(page)
        page.goto(app.url)
        page.locator("#email").fill("ann")
        page.locator("#password").fill(PASSWORD + "-wrong")  # an error answer first
        page.get_by_role("button", name="Sign In").click()
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        expect(page.get_by_text("Welcome to interview-bot")).to_be_visible(timeout=60_000)
        page.get_by_role("button", name="Start").first.click()
        reply(page, "Why this one")
        say(page, ANSWER)
        reply(page, "words so far")
        press(page, "Submit")
        fell_back = page.get_by_text("openai failed").last
        expect(fell_back).to_be_visible(timeout=GRADE_SECONDS)  # graded offline instead
        press(page, "End interview")
        expect(page.get_by_text("interview-report.md").last).to_be_visible(timeout=60_000)
        report = page.locator('[data-step-type="assistant_message"]').last.inner_text()
        exports = [
            _download(page, "Export CSV", "interview-bot-attempts.csv", tmp_path),
            _download(page, "Export JSON", "interview-bot-attempts.json", tmp_path),
        ]
        for path in ("/no-such-page", "/project/file/nope?session_id=x", "/auth/header"):
            page.goto(app.url + path)
        browser.close()
        log = app.log.read_text(errors="replace")
    files = [
        p.read_text(errors="replace")
        for p in data_dir.rglob("*")
        if p.is_file() and "history.sqlite3" not in p.name and p.name != SECRET_FILE
    ]
    places = {"server log": [log], "exports": exports, "report": [report]}
    places |= {"http and websocket": seen.texts, "data dir files": files}
    assert "Incorrect API key provided" in log + "".join(seen.texts + exports), "the key came back"
    found = {
        where: [s[:6] for s in secrets if any(s in text for text in texts)]
        for where, texts in places.items()
    }
    assert found == dict.fromkeys(places, []), found
