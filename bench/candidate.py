"""A simulated candidate: the real app driven the way its browser page drives it, through nginx.

Chainlit's page opens a socket.io connection (`/ws/socket.io`, a fresh `sessionId` in its auth)
and says `connection_successful`; the server answers with messages (`new_message`,
`stream_start`, `update_message`) and buttons (`action`). Typing sends `client_message`;
pressing a button is an HTTP call, `POST /project/action`, that returns when its handler has
finished (for Submit: the grade sent). A candidate keeps one cookie jar, like a browser, so
nginx's routing cookie keeps all of it on one instance. With INTERVIEW_BOT_AUTH_HEADER set on the
servers, it signs in by that header (as an authenticating proxy would set it).

When its instance dies, the candidate does what a person would: reload the page (a new socket
through nginx, which now routes it to a live instance), press Resume, and carry on: the parts of
its answer the server had acknowledged are not typed again, an answer whose Submit was cut off is
submitted again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio

QUESTION = re.compile(r"\A## (.+)\n")  # a question opens with its title ...
ASKED = "_Why this one:"  # ... and says why it was chosen (feedback has headings too)
NOTED = "words so far"  # the reply to every part of an answer, once it is saved
FOLLOW_UP = "**Follow-up "
START = "start"  # the welcome message, and the end of a session, offer Start
WELCOME_ACTIONS = ("start", "history", "export_csv", "export_json")  # Resume, when offered, too
Think = Callable[[], Awaitable[None]]
Write = Callable[[str], list[str]]  # a question's title -> the parts of an answer to it


class Lost(Exception):
    """The connection to the instance is gone (socket closed, or an HTTP call cut off)."""


@dataclass
class Answer:
    """One question as this candidate answers it: the parts it types, what the server saved."""

    title: str
    parts: list[str]
    acked: int = 0  # parts the server acknowledged (saved)
    pressed: bool = False  # Submit was pressed (its call may have been cut off)
    submitted: bool = False  # Submit returned, or the session had moved past it on resume
    submit_s: float | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(self.parts)


@dataclass
class Record:
    """What the bench reads afterwards."""

    connect_s: list[float] = field(default_factory=list)
    submit_s: list[tuple[float, float]] = field(default_factory=list)  # (when, seconds)
    answers: list[Answer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reconnects: int = 0
    cut_submits: int = 0  # Submits in flight when the instance died (resubmitted after Resume)
    reload_s: list[float] = field(default_factory=list)  # losing the instance -> the welcome
    resumed: int = 0  # reconnects after which Resume brought back the question being answered
    route: str = ""


class Candidate:
    def __init__(
        self,
        url: str,
        name: str,
        *,
        auth_header: str | None = None,
        reply_timeout: float = 120.0,
    ) -> None:
        self.url, self.name = url, name
        self.auth_header = auth_header
        self.reply_timeout = reply_timeout
        self.record = Record()
        self.messages: list[dict[str, Any]] = []
        self.actions: dict[str, dict[str, Any]] = {}
        self._changed = asyncio.Event()
        self._lost = False
        self._http: aiohttp.ClientSession | None = None
        self._sio: socketio.AsyncClient | None = None
        self._session_id = ""

    # -- the connection -----------------------------------------------------------------------

    async def open(self) -> float:
        """Load the page and wait for the welcome; seconds from the first request to it."""
        began = time.perf_counter()
        if self._http is None:
            headers = {self.auth_header: self.name} if self.auth_header else {}
            jar = aiohttp.CookieJar(unsafe=True)  # keep cookies for 127.0.0.1 too
            self._http = aiohttp.ClientSession(self.url, headers=headers, cookie_jar=jar)
        config = await self._get_json("/auth/config")
        if config.get("requireLogin"):
            await self._post("/auth/header", {})
        self.record.route = next(
            (c.value for c in self._http.cookie_jar if c.key == "ib_route"), self.record.route
        )
        await self._connect()
        for name in WELCOME_ACTIONS:  # a message's buttons arrive after it, one by one
            await self.wait_for(lambda m: True, since=0, action=name)
        seconds = time.perf_counter() - began
        self.record.connect_s.append(seconds)
        return seconds

    async def _connect(self) -> None:
        self.messages.clear()
        self.actions.clear()
        self._lost = False
        self._session_id = str(uuid.uuid4())
        sio = socketio.AsyncClient(reconnection=False, http_session=self._http)
        sio.on("new_message", self._on_message)
        sio.on("stream_start", self._on_message)
        sio.on("update_message", self._on_update)
        sio.on("action", self._on_action)
        sio.on("disconnect", self._on_disconnect)
        auth = {"sessionId": self._session_id, "clientType": "webapp", "userEnv": "{}"}
        try:
            await sio.connect(
                self.url, socketio_path="/ws/socket.io", transports=["websocket"], auth=auth
            )
            await sio.emit("connection_successful")
        except (socketio.exceptions.ConnectionError, OSError) as error:
            raise Lost(f"connect: {error}") from error
        self._sio = sio

    async def close(self) -> None:
        if self._sio is not None:
            await self._sio.disconnect()
        if self._http is not None:
            await self._http.close()

    async def _on_message(self, step: dict[str, Any]) -> None:
        self.messages.append({"id": step.get("id"), "output": step.get("output") or ""})
        self._changed.set()

    async def _on_update(self, step: dict[str, Any]) -> None:
        for message in self.messages:
            if message["id"] == step.get("id"):
                message["output"] = step.get("output") or ""
        self._changed.set()

    async def _on_action(self, action: dict[str, Any]) -> None:
        self.actions[str(action.get("name"))] = {**action, "at": len(self.messages)}
        self._changed.set()

    async def _on_disconnect(self, *_: Any) -> None:
        self._lost = True
        self._changed.set()

    # -- what a person does ---------------------------------------------------------------------

    async def wait_for(
        self,
        test: Callable[[str], bool],
        *,
        since: int,
        action: str | None = None,
        timeout: float | None = None,
    ) -> str:
        """The first message from index `since` on passing `test` (and, when given, once a
        button named `action` is offered); Lost when the connection goes first."""
        limit = self.reply_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            found = next((m["output"] for m in self.messages[since:] if test(m["output"])), None)
            if found is not None and (action is None or action in self.actions):
                return found
            if self._lost:
                raise Lost("socket closed")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply in {limit:.0f} s")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 1.0))
            except TimeoutError:
                pass

    async def say(self, text: str) -> None:
        """Type a message and wait until the server says it is saved."""
        if self._lost or self._sio is None:
            raise Lost("socket closed")
        since = len(self.messages)
        message = {
            "id": str(uuid.uuid4()),
            "threadId": "",
            "name": self.name,
            "type": "user_message",
            "output": text,
            "createdAt": dt.datetime.now(dt.UTC).isoformat(),
        }
        try:
            await self._sio.emit("client_message", {"message": message, "fileReferences": []})
        except socketio.exceptions.SocketIOError as error:
            raise Lost(f"say: {error}") from error
        await self.wait_for(lambda out: NOTED in out, since=since)

    async def press(self, name: str, payload: dict[str, Any] | None = None) -> float:
        """Press a button; seconds until its handler finished. On a page whose socket is gone
        nothing is sent (a browser shows it is disconnected; the person reloads)."""
        if self._lost:
            raise Lost("socket closed")
        action = {"name": name, "payload": payload or {}, "id": str(uuid.uuid4()), "label": ""}
        began = time.perf_counter()
        await self._post("/project/action", {"sessionId": self._session_id, "action": action})
        return time.perf_counter() - began

    async def _get_json(self, path: str) -> dict[str, Any]:
        assert self._http is not None
        try:
            async with self._http.get(path) as response:
                if response.status != 200:
                    raise Lost(f"GET {path}: HTTP {response.status}")
                return dict(await response.json())
        except aiohttp.ClientError as error:
            raise Lost(f"GET {path}: {error}") from error

    async def _post(self, path: str, body: dict[str, Any]) -> None:
        assert self._http is not None
        try:
            async with self._http.post(path, json=body) as response:
                if response.status != 200:
                    raise Lost(f"POST {path}: HTTP {response.status} {await response.text()}")
        except aiohttp.ClientError as error:
            raise Lost(f"POST {path}: {error}") from error

    # -- reconnecting -------------------------------------------------------------------------

    async def reload_and_resume(self, current: Answer | None) -> str | None:
        """Reload the page (through nginx) and press Resume; the question title it brings back
        (None when nothing was offered). Retries while no instance answers."""
        self.record.reconnects += 1
        began = time.perf_counter()
        if self._sio is not None:
            await self._sio.disconnect()
        for attempt in range(30):
            try:
                await self.open()
                self.record.reload_s.append(time.perf_counter() - began)
                break
            except (Lost, TimeoutError):
                await asyncio.sleep(min(0.5 * (attempt + 1), 3.0))
        else:
            raise Lost("no instance answered a reload")
        offer = self.actions.get("resume")
        if offer is None:
            return None
        since = len(self.messages)
        await self.press("resume", offer.get("payload"))
        title = title_of(await self.wait_for(is_question, since=since))
        if current is not None and title == current.title:
            self.record.resumed += 1
        return title

    def offered_since(self, name: str, since: int) -> bool:
        return name in self.actions and int(self.actions[name]["at"]) >= since


def is_question(markdown: str) -> bool:
    return QUESTION.search(markdown) is not None and ASKED in markdown


def title_of(markdown: str) -> str | None:
    found = QUESTION.search(markdown)
    return found.group(1).strip() if found and ASKED in markdown else None


# -- a person's session ---------------------------------------------------------------------------


async def interview(
    c: Candidate, write: Write, *, until: float, think: Think, title: str | None = None
) -> None:
    """Answer question after question (drills, one after another) until `until` (monotonic
    clock), starting at the question `title` (None: press Start): think, type the answer in
    parts, think, Submit. When the instance goes, reload and resume, and go on with what the
    server kept."""
    current: Answer | None = None
    while time.monotonic() < until:
        try:
            if title is None:
                title = await _start(c)
            if current is None or current.title != title or current.submitted:
                current = Answer(title, write(title))
                c.record.answers.append(current)
            while current.acked < len(current.parts):
                await think()
                await c.say(current.parts[current.acked])
                current.acked += 1
            await think()
            title = await submit(c, current)
        except Lost:
            title = await c.reload_and_resume(current)
            if current is not None and title != current.title:
                if current.pressed:  # the session had moved past it: it was submitted
                    current.submitted = True
                elif current.acked:
                    c.record.errors.append(f"{c.name}: no Resume of {current.title!r}")
        except TimeoutError as error:
            c.record.errors.append(f"{c.name}: {error}")
            return


async def _start(c: Candidate) -> str:
    since = len(c.messages)
    await c.press(START)
    return title_of(await c.wait_for(is_question, since=since)) or ""


async def submit(c: Candidate, answer: Answer) -> str | None:
    """Press Submit (timed), skip any follow-up; the next question's title, or None when the
    session ended."""
    since = len(c.messages)
    answer.pressed = True
    try:
        seconds = await c.press("submit")
    except Lost:
        c.record.cut_submits += 1
        raise
    answer.submitted, answer.submit_s = True, seconds
    c.record.submit_s.append((time.monotonic(), seconds))
    text = await c.wait_for(lambda out: _next(c, out, since), since=since)
    if FOLLOW_UP in text:
        since = len(c.messages)
        await c.press("skip")
        text = await c.wait_for(lambda out: _next(c, out, since), since=since)
    return title_of(text)


def _next(c: Candidate, out: str, since: int) -> bool:
    """What ends a step: a question, a follow-up, or Start offered again (the session ended)."""
    return is_question(out) or FOLLOW_UP in out or c.offered_since(START, since)
