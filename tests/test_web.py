"""Chainlit handlers run inside a Chainlit context without a browser; what they send is recorded."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import chainlit as cl
import pytest
from chainlit.context import init_http_context

from bot.interview import InterviewSession
from bot.interview.editor import starter_code
from bot.web import app
from bot.web.render import example_lines
from tests.test_history import make_grade


class Recorder:
    """Stands in for the socket: keeps every step, token, element and action the app emits."""

    def __init__(self) -> None:
        self.steps: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.elements: list[dict[str, Any]] = []
        self.actions: list[dict[str, Any]] = []
        self.tokens: dict[str, list[str]] = {}
        self.settings: list[dict[str, Any]] = []
        self.removed: list[str] = []

    def attach(self, emitter: Any) -> None:
        async def send_step(step: dict[str, Any]) -> None:
            if step["id"] not in self.steps:
                self.order.append(step["id"])
            self.steps[step["id"]] = dict(step)

        async def send_token(id: str, token: str, **_: Any) -> None:
            self.tokens.setdefault(id, []).append(token)

        async def emit(event: str, data: Any) -> None:
            if event == "action":
                self.actions.append(data)
            if event == "chat_settings":
                self.settings.append({w["id"]: w for w in data})
            if event == "remove_element":
                self.removed.append(data["id"])

        async def send_element(element: dict[str, Any]) -> None:
            self.elements.append(element)

        emitter.send_step = emitter.update_step = emitter.stream_start = send_step
        emitter.send_token = send_token
        emitter.emit = emit
        emitter.send_element = send_element
        # the socket emitter's set_chat_settings is synchronous; the HTTP one is a coroutine
        # that ChatSettings.send never awaits, so stand in with a plain function
        emitter.set_chat_settings = lambda settings: None

    def texts(self) -> list[str]:
        return [str(self.steps[i].get("output", "")) for i in self.order]

    def last(self) -> str:
        return self.texts()[-1]

    def labels(self, for_id: str | None = None) -> list[str]:
        return [a["label"] for a in self.actions if for_id is None or a["forId"] == for_id]

    def room(self) -> dict[str, Any] | None:
        """The props of the interview room the browser shows now, or None when it shows none."""
        sent = [e for e in self.elements if e["type"] == "custom" and e["display"] == "side"]
        if not sent or sent[-1]["id"] in self.removed[-1:]:
            return None
        return dict(sent[-1]["props"])

    def room_labels(self) -> list[str]:
        room = self.room()
        assert room is not None, "the interview room is shown"
        return [a["label"] for a in room["actions"]]


@pytest.fixture(autouse=True)
def _fresh_engine() -> Iterator[None]:
    app.engine_context.cache_clear()  # each test gets the data dir conftest made for it
    yield
    app.engine_context().store.close()
    app.engine_context.cache_clear()


def in_chainlit(scenario: Callable[[Recorder], Awaitable[None]]) -> None:
    """Run a scenario inside a Chainlit HTTP context whose emitter is a Recorder."""

    async def main() -> None:
        context = init_http_context()
        recorder = Recorder()
        recorder.attach(context.emitter)
        await scenario(recorder)

    asyncio.run(main())


def act(name: str, **payload: Any) -> cl.Action:
    return cl.Action(name=name, payload=payload)


def test_a_drill_from_start_to_feedback() -> None:
    in_chainlit(_a_drill_from_start_to_feedback)


async def _a_drill_from_start_to_feedback(ui: Recorder) -> None:
    await app.on_chat_start()
    assert list(ui.settings[0]) == ["mode", "competency", "tag", "difficulty", "level", "grader"]
    assert "Welcome to interview-bot" in ui.last()
    assert {"Start", "Progress & history", "Export CSV", "Export JSON"} <= set(ui.labels())

    await app.on_settings_update({"mode": "drill", "competency": "C6", "difficulty": 3})
    assert "Drill C6" in ui.last()
    await app.on_start(act("start"))
    question_id = ui.order[-1]
    assert "Why this one" in ui.last()
    assert ui.labels(question_id) == ["Show the room"]
    assert ui.room_labels() == ["Hint", "Submit", "Skip", "End interview"]
    room = ui.room()
    assert room is not None and room["label"] == "Drill C6 · question 1 of 5"
    assert not room["coding"] and room["code"] == "" and room["deadline"] is None

    await app.on_hint(act("hint"))
    assert ui.last().startswith("**Hint 1/")
    await app.on_message(cl.Message(content="Continuous batching admits new requests each step."))
    assert "words so far" in ui.last()
    await app.on_submit(act("submit"))

    feedback = next(t for t in ui.texts() if t.startswith("**Feedback on"))
    assert "### Score:" in feedback and "| Criterion | Level | Evidence |" in feedback
    assert "hints used: 1/" in feedback and "Graded by offline" in feedback
    streamed = [tokens for tokens in ui.tokens.values() if len(tokens) > 5]
    assert streamed and feedback.endswith("".join(streamed[0]))  # it streamed, then settled
    reference = next(s for s in ui.steps.values() if s.get("name") == "Reference answer")
    assert "**Sources**" in reference["output"] and "kb/reference/" in reference["output"]
    [attempt] = app.engine_context().store.attempts()
    assert attempt.answer == "Continuous batching admits new requests each step."
    assert attempt.hints_used == 1 and attempt.score is not None


def test_history_chart_and_exports() -> None:
    in_chainlit(_history_chart_and_exports)


async def _history_chart_and_exports(ui: Recorder) -> None:
    await app.on_chat_start()
    await app.on_settings_update({"mode": "single", "question": "dd-kv-cache"})
    await app.on_start(act("start"))
    await app.on_message(cl.Message(content="Cache keys and values of earlier tokens."))
    await app.on_submit(act("submit"))
    await app.on_end(act("end"))
    assert "report" in ui.last() and "## Questions" in ui.last()
    report = [e for e in ui.elements if e["name"] == "interview-report.md"]
    assert report, "the report is offered as a Markdown download"

    await app.on_history(act("history"))
    assert "| C6 Production GenAI engineering | 1 | 1 |" in ui.last()
    assert any(e["type"] == "plotly" for e in ui.elements)

    await app.on_export_csv(act("export_csv"))
    [csv_file] = [e for e in ui.elements if e["name"] == "interview-bot-attempts.csv"]
    [points_file] = [e for e in ui.elements if e["name"] == "interview-bot-key-points.csv"]
    assert "Exported 1 attempts" in ui.last() and "interview-bot-key-points.csv" in ui.last()
    store = app.engine_context().store
    rows = list(csv.DictReader(io.StringIO(_element_text(csv_file), newline="")))
    assert [r["question_id"] for r in rows] == ["dd-kv-cache"]
    assert float(rows[0]["score"]) == store.attempts()[0].score
    assert rows[0]["answer"] == "Cache keys and values of earlier tokens."
    points = list(csv.DictReader(io.StringIO(_element_text(points_file), newline="")))
    grade = store.attempts()[0].grade
    assert grade is not None
    assert [p["key_point_id"] for p in points] == [k.id for k in grade.key_points]
    await app.on_export_json(act("export_json"))
    assert "interview-bot-attempts.json" in ui.last()
    [json_file] = [e for e in ui.elements if e["name"] == "interview-bot-attempts.json"]
    doc = json.loads(_element_text(json_file))
    assert [a["attempt_id"] for a in doc["attempts"]] == [rows[0]["attempt_id"]]


def test_history_marks_a_retry_made_after_the_feedback() -> None:
    in_chainlit(_history_marks_a_retry_made_after_the_feedback)


async def _history_marks_a_retry_made_after_the_feedback(ui: Recorder) -> None:
    store = app.engine_context().store
    sid = store.start_session("drill")
    fields = {"question_id": "dd-kv-cache", "kind": "llm_deep_dive", "competency": "C6"}
    first = store.save_answer(session_id=sid, answer="first", difficulty=3, **fields)
    store.record_grade(first, make_grade(40))
    store.save_answer(session_id=sid, answer="retry", difficulty=3, **fields)

    await app.on_history(act("history"))
    rows = [line for line in ui.last().splitlines() if "| dd-kv-cache |" in line]
    assert len(rows) == 2
    assert rows[0].endswith("| — | _retry after feedback_ |")  # newest first, not graded yet
    assert rows[1].endswith("| 40 |  |")


def _element_text(element: dict[str, Any]) -> str:
    """The File element's bytes, as Chainlit stored them for download."""
    from chainlit.context import context

    files = context.session.files
    entry = files[element["chainlitKey"]] if element.get("chainlitKey") in files else None
    assert entry is not None, "the exported file was stored for download"
    return str(entry["path"].read_text(encoding="utf-8"))


def test_a_mock_round_shows_a_live_timer() -> None:
    in_chainlit(_a_mock_round_shows_a_live_timer)


async def _a_mock_round_shows_a_live_timer(ui: Recorder) -> None:
    await app.on_chat_start()
    await app.on_settings_update({"mode": "mock", "plan": "quick", "minutes": "12, 8"})
    await app.on_start(act("start"))
    room = ui.room()
    assert room is not None and room["label"] == "Round 1/2: Coding warm-up"
    session = app._session()
    assert session is not None and [r.minutes for r in session.state.rounds] == [12, 8]
    started = session.state.rounds[0].started_at
    assert started is not None
    assert datetime.fromisoformat(room["deadline"]) == started + timedelta(minutes=12)
    assert room["warnSeconds"] == app.engine_context().bank.plan("quick").warn_minutes * 60
    assert not any(e["type"] == "custom" and e["display"] == "inline" for e in ui.elements)
    await app.on_end(act("end"))
    assert app._session() is None and ui.room() is None


def test_bad_settings_get_a_clear_message() -> None:
    in_chainlit(_bad_settings_get_a_clear_message)


async def _bad_settings_get_a_clear_message(ui: Recorder) -> None:
    await app.on_chat_start()
    await app.on_settings_update({"mode": "mock", "plan": "quick", "minutes": "ten"})
    await app.on_start(act("start"))
    assert "round minutes must be whole numbers" in ui.last()
    await app.on_settings_update({"mode": "single", "question": "no-such-question"})
    await app.on_start(act("start"))
    assert "unknown question 'no-such-question'" in ui.last()
    await app.on_message(cl.Message(content="hello"))
    assert "No session is running" in ui.last()
    # the browser sends None for fields left empty
    empty = {"mode": "mock", "plan": "quick", "minutes": None, "tag": None, "question": None}
    await app.on_settings_update(empty)
    await app.on_start(act("start"))
    assert "Round 1/2: Coding warm-up" in ui.last()


def test_an_unfinished_session_can_be_resumed() -> None:
    in_chainlit(_an_unfinished_session_can_be_resumed)


async def _an_unfinished_session_can_be_resumed(ui: Recorder) -> None:
    ctx = app.engine_context()
    session, _ = InterviewSession.start_single(ctx, "sd-url-shortener")
    session.say("Base62 codes from a counter, cached at the edge.")
    await app.on_chat_start()
    resume = [a for a in ui.actions if a["name"] == "resume"]
    assert resume and resume[0]["payload"] == {"id": session.id}
    await app.on_resume(act("resume", id=session.id))
    assert "Resumed where you left off" in ui.last() and "Base62 codes" in ui.last()
    resumed = app._session()
    assert resumed is not None and resumed.id == session.id
    room = ui.room()
    assert (
        room is not None
        and room["session"] == session.id
        and room["question"] == session.question.id
    )


def test_coding_run_examples_and_a_py_upload() -> None:
    in_chainlit(_coding_run_examples_and_a_py_upload)


async def _coding_run_examples_and_a_py_upload(ui: Recorder) -> None:
    ctx = app.engine_context()
    q = ctx.bank.question("coding-pair-sum-indices")
    assert q.coding is not None
    await app.on_chat_start()
    await app.on_settings_update({"mode": "single", "question": q.id})
    await app.on_start(act("start"))
    assert ui.room_labels() == ["Hint", "Run examples", "Submit", "Skip", "End interview"]
    upload = Path(tempfile.mkdtemp()) / "solution.py"
    upload.write_text(q.coding.reference_solution, encoding="utf-8")
    file = cl.File(name="solution.py", path=str(upload))
    await app.on_message(cl.Message(content="My solution is attached.", elements=[file]))
    room = ui.room()
    assert room is not None and room["code"].rstrip() == q.coding.reference_solution.rstrip()
    await app.on_run_examples(act("run_examples"))
    n = len(q.coding.examples)
    assert f"**{n}/{n} tests passed**" in ui.last()
    await app.on_submit(act("submit"))
    feedback = next(t for t in ui.texts() if t.startswith("**Feedback on"))
    hidden = len(q.coding.tests) + 1  # the hidden tests and pair-sum's scaling check
    assert "#### Hidden tests" in feedback
    assert f"**{hidden}/{hidden} hidden tests and bound checks passed**" in feedback
    follow_up = next(t for t in ui.texts() if t.startswith("**Follow-up 1/"))
    assert "solution you submitted" in follow_up and q.coding.entry_point in follow_up


def test_the_room_takes_the_editors_code_and_follows_the_question() -> None:
    in_chainlit(_the_room_takes_the_editors_code_and_follows_the_question)


async def _the_room_takes_the_editors_code_and_follows_the_question(ui: Recorder) -> None:
    ctx = app.engine_context()
    q = ctx.bank.question("coding-pair-sum-indices")
    assert q.coding is not None
    await app.on_chat_start()
    await app.on_settings_update({"mode": "single", "question": q.id})
    await app.on_start(act("start"))
    room = ui.room()
    assert room is not None and room["coding"] and room["phase"] == "answering"
    assert room["code"] == starter_code(q) and room["title"] == q.title
    assert room["examples"] == example_lines(q) and "\n" not in room["prompt"].strip()
    session = app._session()
    assert session is not None and session.state.current is not None
    current, sent, said = session.state.current, len(ui.elements), len(ui.order)

    await app.on_save_code(act("save_code", code="x = 1", question="another-question"))
    assert current.code == "", "code from a room that showed another question is dropped"
    await app.on_save_code(act("save_code", code=q.coding.reference_solution, question=q.id))
    assert current.code.strip() == q.coding.reference_solution.strip()
    assert len(ui.elements) == sent and len(ui.order) == said, "an autosave changes nothing shown"

    wrong = f"def {q.coding.entry_point}(nums, target):\n    return [0, 0]\n"
    await app.on_run_examples(act("run_examples", code=wrong, question=q.id))
    assert f"**0/{len(q.coding.examples)} tests passed**" in ui.last()
    await app.on_submit(act("submit", code=q.coding.reference_solution, question=q.id))
    shown = next(s for s in ui.steps.values() if "Submitted from the editor" in str(s["output"]))
    assert shown["type"] == "user_message" and "seen" in shown["output"]
    feedback = next(t for t in ui.texts() if t.startswith("**Feedback on"))
    hidden = len(q.coding.tests) + 1  # the hidden tests and pair-sum's scaling check
    assert f"**{hidden}/{hidden} hidden tests and bound checks passed**" in feedback
    [attempt] = ctx.store.attempts()
    assert q.coding.reference_solution.strip() in attempt.answer and "[0, 0]" not in attempt.answer

    room = ui.room()
    assert room is not None and room["phase"] == "follow_up"
    assert room["followUp"].startswith("**Follow-up 1/")
    assert ui.room_labels() == ["Submit", "Skip", "End interview"]
    before = len(ui.elements)
    await app.on_room(act("room"))  # the candidate closed the panel: it comes back, same element
    assert len(ui.elements) == before + 1 and ui.elements[-1]["id"] == ui.elements[-2]["id"]
    await app.on_end(act("end"))
    assert ui.room() is None


def test_the_app_keeps_answering_while_code_runs() -> None:
    """One candidate's slow submission must not hold up another candidate's request."""

    async def main() -> None:
        order: list[str] = []
        ctx = app.engine_context()
        q = ctx.bank.question("coding-pair-sum-indices")
        assert q.coding is not None
        slow = (
            "```python\nimport time\n"
            f"def {q.coding.entry_point}(nums, target):\n    time.sleep(0.3)\n    return []\n```"
        )

        async def slow_candidate() -> None:
            recorder = Recorder()
            recorder.attach(init_http_context().emitter)
            await app.on_chat_start()
            await app.on_settings_update({"mode": "single", "question": q.id})
            await app.on_start(act("start"))
            await app.on_message(cl.Message(content=slow))
            order.append("submit started")
            await app.on_submit(act("submit"))
            order.append("submit done")
            ran = re.compile(r"\*\*\d/9 hidden tests and bound checks passed\*\*")
            assert any(ran.search(t) for t in recorder.texts())

        async def other_candidate() -> None:
            recorder = Recorder()
            recorder.attach(init_http_context().emitter)
            while "submit started" not in order:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # the code is running now
            await app.on_chat_start()
            await app.on_history(act("history"))
            order.append("history done")
            assert "Score history" in recorder.last() or "No attempts yet" in recorder.last()

        await asyncio.gather(slow_candidate(), other_candidate())
        assert order == ["submit started", "history done", "submit done"]

    asyncio.run(main())


def test_the_round_timer_warns_and_submits_at_time_out() -> None:
    """The app's own timer task, driven by the engine clock (moved forward by hand here)."""

    async def main() -> None:
        ctx = app.engine_context()
        now = [datetime.now(UTC)]
        ctx.clock = lambda: now[0]
        ui = Recorder()
        ui.attach(init_http_context().emitter)
        await app.on_chat_start()
        await app.on_settings_update({"mode": "mock", "plan": "quick"})  # 15 + 10 min, warn at 2
        await app.on_start(act("start"))
        await app.on_message(cl.Message(content="A hash map from value to index, one pass."))
        now[0] += timedelta(minutes=13, seconds=30)
        await _until(lambda: "min left** in the Coding warm-up round" in ui.last())
        now[0] += timedelta(minutes=2)
        await _until(lambda: any(t.startswith("**Time is up**") for t in ui.texts()))
        await _until(lambda: any(t.startswith("**Feedback on") for t in ui.texts()))
        await _until(lambda: "is over. Next: round 2/2" in ui.last())  # the pause between rounds
        await app.on_next_round(act("next_round"))
        await _until(lambda: "Round 2/2" in ui.last())
        [attempt] = ctx.store.attempts()
        assert attempt.answer == "A hash map from value to index, one pass."
        await app.on_end(act("end"))

    asyncio.run(main())


async def _until(condition: Callable[[], bool], seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the timer did not act in time")


def test_history_comes_in_pages_read_off_the_event_loop() -> None:
    in_chainlit(_history_comes_in_pages_read_off_the_event_loop)


async def _history_comes_in_pages_read_off_the_event_loop(ui: Recorder) -> None:
    import threading

    store = app.engine_context().store
    sid = store.start_session("drill")
    fields = {"kind": "llm_deep_dive", "competency": "C6", "difficulty": 3}
    for n in range(23):
        store.save_answer(session_id=sid, question_id=f"q{n:02d}", answer=f"answer {n}", **fields)
    loop_thread, reads = threading.current_thread(), []
    for name in ("score_points", "history_page", "attempts", "summary"):
        real = getattr(store, name)

        def watched(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            reads.append((_name, threading.current_thread() is loop_thread))
            return _real(*args, **kw)

        setattr(store, name, watched)

    await app.on_history(act("history"))
    shown = [line.split("|")[2].strip() for line in ui.last().splitlines() if "| q" in line]
    assert shown == [f"q{n:02d}" for n in range(22, 12, -1)]  # the newest ten
    assert "Older attempts (11-20 of 23)" in ui.labels()
    older = next(a for a in ui.actions if a["label"].startswith("Older"))
    await app.on_older(act("older", **older["payload"]))
    shown = [line.split("|")[2].strip() for line in ui.last().splitlines() if "| q" in line]
    assert shown == [f"q{n:02d}" for n in range(12, 2, -1)]
    assert "Older attempts (21-23 of 23)" in ui.labels()
    assert "attempts" not in {name for name, _ in reads}, "no answers nor grades read"
    assert reads and not any(on_loop for _, on_loop in reads), reads
