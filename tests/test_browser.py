"""End to end in real headless Chromium: a drill and a mock interview through the interview room.

The room (the question, its clock and the actions, with a code editor for coding) sits in the side
panel; after every reply the tests check that it is in the viewport, with the chat scrolled to its
first message and to its last. Chromium is Debian's (`apt-get install chromium`, done by .ci/run),
driven by Playwright through its executable path; no browser is downloaded.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Locator, Page, expect, sync_playwright

from bot.config import PROJECT_ROOT
from bot.interview.editor import INDENT
from bot.web.launch import CHROMIUM, CHROMIUM_ARGS, running_app

ANSWER = (
    "Continuous batching lets new requests join the running batch at every decoding step "
    "instead of waiting for the slowest sequence, which raises GPU utilisation and throughput."
)
GRADE_SECONDS = 90_000  # ms: the first grade loads the model on a busy machine


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with running_app(tmp_path / "app") as app:
        yield app.url, app.data_dir


def test_the_launcher_serves_this_checkouts_app_and_stops_it(tmp_path: Path) -> None:
    with running_app(tmp_path / "app") as app:
        with urllib.request.urlopen(app.url, timeout=10) as response:
            assert response.status == 200
        assert Path(f"/proc/{app.pid}").exists()
    assert not Path(f"/proc/{app.pid}").exists(), "the server is stopped and reaped"
    assert f"available at http://localhost:{app.url.rsplit(':', 1)[1]}" in app.log.read_text()


@pytest.fixture
def page() -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        yield context.new_page()
        context.close()
        browser.close()


# --- the room ------------------------------------------------------------------------------------


def room(page: Page) -> Locator:
    return page.get_by_test_id("interview-room")


def press(page: Page, action: str) -> None:
    room(page).get_by_test_id("room-actions").get_by_role("button", name=action).click()


def expect_room_in_view(page: Page, label: str | None = None) -> None:
    """The question, its clock and the actions are in the viewport whatever the chat shows."""
    steps = page.locator("[data-step-type]")
    for end in (steps.first, steps.last):
        end.scroll_into_view_if_needed()
        if label is not None:
            expect(room(page).get_by_text(label)).to_be_in_viewport()
        for part in ("room-title", "room-question", "room-timer", "room-actions"):
            expect(room(page).get_by_test_id(part)).to_be_in_viewport()
        expect(room(page).get_by_role("button", name="Submit")).to_be_in_viewport()


def reply(page: Page, text: str | re.Pattern[str], *, label: str | None = None) -> None:
    """Wait for a reply in the chat, then check the room."""
    expect(page.get_by_text(text).last).to_be_visible(timeout=GRADE_SECONDS)
    expect_room_in_view(page, label)


def say(page: Page, text: str) -> None:
    page.locator("#chat-input").fill(text)
    page.keyboard.press("Enter")


def skip_follow_ups(page: Page, next_label: str) -> None:
    """Skip the follow-ups the room shows, if any, until it shows `next_label`."""
    follow_up = room(page).get_by_test_id("room-follow-up")
    following = room(page).get_by_text(next_label)
    for _ in range(4):
        expect(follow_up.or_(following).first).to_be_visible(timeout=GRADE_SECONDS)
        if following.count():
            break
        expect_room_in_view(page)
        number = re.search(r"Follow-up (\d+)/", follow_up.inner_text())
        press(page, "Skip")
        if number is None or following.count():
            continue
        expect(follow_up.filter(has_text=f"Follow-up {number[1]}/")).to_have_count(
            0, timeout=GRADE_SECONDS
        )
    expect_room_in_view(page, next_label)


def type_code(page: Page, editor: Locator, code: str) -> None:
    """Type `code` as a person would: Enter for a new line (the editor keeps the indentation and
    adds a level after a colon), Tab and Shift-Tab to move to each line's own indentation."""
    for i, line in enumerate(code.rstrip().splitlines()):
        if i:
            page.keyboard.press("Enter")
        want = len(line) - len(line.lstrip(" "))
        have = _indent_here(editor)
        while have > want:
            page.keyboard.press("Shift+Tab")
            have = _indent_here(editor)
        while have < want:
            if have % len(INDENT) == 0 and want - have >= len(INDENT):
                page.keyboard.press("Tab")
            else:
                page.keyboard.type(" ")
            have = _indent_here(editor)
        page.keyboard.type(line.lstrip(" "))


def _indent_here(editor: Locator) -> int:
    current = str(editor.input_value()).split("\n")[-1]
    return len(current) - len(current.lstrip(" "))


def luminance(locator: Locator) -> float:
    rgb = locator.evaluate("e => getComputedStyle(e).backgroundColor")
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def current_question(data_dir: Path) -> str:
    db = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        query = "select state_json from sessions order by started_at desc"
        state = db.execute(query).fetchone()[0]
    finally:
        db.close()
    return str(json.loads(state)["current"]["question_id"])


def reference_solution(question_id: str) -> str:
    path = PROJECT_ROOT / "question_bank" / "coding" / f"{question_id}.yaml"
    return str(yaml.safe_load(path.read_text(encoding="utf-8"))["coding"]["reference_solution"])


def attempts(data_dir: Path) -> list[tuple[str, str, str | None, float | None]]:
    db = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        query = "select question_id, answer, round, score from attempts order by created_at"
        return list(db.execute(query))
    finally:
        db.close()


# --- a drill -----------------------------------------------------------------------------------


def test_a_drill_in_the_room_then_the_export(
    server: tuple[str, Path], page: Page, tmp_path: Path
) -> None:
    url, data_dir = server
    page.goto(url)
    expect(page.get_by_text("Welcome to interview-bot")).to_be_visible(timeout=60_000)
    assert page.title() == "interview-bot"

    page.get_by_role("button", name="Start").first.click()
    reply(page, "Why this one", label="Drill C3 · question 1 of 5")
    expect(room(page).get_by_test_id("room-timer")).to_contain_text("on this question")
    title = room(page).get_by_test_id("room-title").inner_text()
    page.locator("#side-view-title button").click()  # the candidate closes the panel
    expect(room(page)).to_have_count(0)
    page.get_by_role("button", name="Show the room").last.click()
    expect_room_in_view(page, "Drill C3 · question 1 of 5")
    say(page, ANSWER)
    reply(page, "words so far")
    press(page, "Hint")
    reply(page, re.compile(r"^Hint 1/\d"))
    press(page, "Submit")

    score = page.locator('[data-step-type="assistant_message"] h3', has_text="Score:").last
    expect(score).to_be_visible(timeout=GRADE_SECONDS)
    expect(score).to_be_in_viewport()  # the room's Submit brings the feedback into view
    shown = score.inner_text()  # e.g. "Score: 41/100 — ✘ below the pass mark"
    reply(page, "Graded by offline")
    skip_follow_ups(page, "Drill C3 · question 2 of 5")
    expect(room(page).get_by_test_id("room-title")).not_to_have_text(title)
    [(question_id, answer, _, stored)] = attempts(data_dir)
    assert answer == ANSWER and stored is not None
    assert shown.startswith(f"Score: {stored:.0f}/100")

    page.get_by_role("button", name="Export CSV").first.click()
    link = page.get_by_text("interview-bot-attempts.csv").last
    expect(link).to_be_visible(timeout=30_000)
    with page.expect_download(timeout=30_000) as download:
        page.locator("a", has_text="interview-bot-attempts.csv").last.click()
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert len(rows) == 1
    assert rows[0]["question_id"] == question_id
    assert float(rows[0]["score"]) == pytest.approx(stored)
    assert rows[0]["mode"] == "drill" and rows[0]["grader"] == "offline"


# --- a mock interview ------------------------------------------------------------------------


def test_a_mock_interview_in_the_room_with_the_code_editor(
    server: tuple[str, Path], page: Page
) -> None:
    """Settings -> a mock plan -> code typed in the editor, run and submitted -> the design and
    deep-dive rounds answered in the chat -> the report; the room in view after every reply."""
    url, data_dir = server
    page.goto(url)
    expect(page.get_by_text("Welcome to interview-bot")).to_be_visible(timeout=60_000)
    page.click("#chat-settings-open-modal")
    page.locator("#mode").click()
    page.get_by_role("option", name="Mock interview").click()
    page.locator("#minutes").fill("20, 25, 15")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Settings saved").last).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Start").last.click()

    reply(page, "Why this one", label="Round 1/3: Coding")
    timer = room(page).get_by_test_id("room-timer")
    expect(timer).to_have_text(re.compile(r"^(19|20):\d\d left$"))
    first = timer.inner_text()
    expect(timer).not_to_have_text(first, timeout=5_000)  # a live countdown
    _code_round(page, data_dir)
    _finish_round(page, "Round 2/3: System design")

    _answer_in_chat(page, "My answer for round 2: I would start simple and measure.")
    _finish_round(page, "Round 3/3: LLM deep-dive")
    _answer_in_chat(page, "My answer for round 3: I would start simple and measure.")
    _finish_round(page, None)

    report = page.get_by_role("heading", name="Mock interview: Standard GenAI-engineer loop")
    expect(report).to_be_visible(timeout=60_000)
    expect(page.get_by_text("interview-report.md").last).to_be_visible()
    expect(room(page)).to_have_count(0)  # no question open: the room is gone
    rows = attempts(data_dir)
    rounds = list(dict.fromkeys(r[2] for r in rows))  # a round may ask several questions
    assert rounds == ["Coding", "System design", "LLM deep-dive"]
    db = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        assert db.execute("select ended_at from sessions").fetchone()[0] is not None
    finally:
        db.close()


def _code_round(page: Page, data_dir: Path) -> None:
    question_id = current_question(data_dir)
    solution = reference_solution(question_id)
    editor = room(page).get_by_label("Code editor")
    starter = editor.input_value()
    assert starter.splitlines()[0].startswith(("def ", "class ")), "the signature is pre-filled"
    expect(editor).to_be_in_viewport()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    type_code(page, editor, solution)
    typed = [line.rstrip() for line in editor.input_value().splitlines()]
    assert typed == [line.rstrip() for line in solution.rstrip().splitlines()]
    gutter = room(page).get_by_test_id("code-gutter")
    assert gutter.inner_text().split() == [str(n) for n in range(1, len(typed) + 1)]
    expect(page.locator('[data-step-type="user_message"]')).to_have_count(0)  # Enter never sent
    expect_room_in_view(page)

    dark = luminance(room(page).get_by_test_id("code-editor"))
    page.locator("#theme-toggle").click()
    page.get_by_text("Light Theme").click()
    _until_lighter(page, dark)  # the room follows the theme

    press(page, "Run examples")
    passed = page.get_by_text(re.compile(r"^\d+/\d+ tests passed$")).last
    expect(passed).to_be_in_viewport(timeout=GRADE_SECONDS)  # the room's Run shows its reply
    n, total = map(int, re.findall(r"\d+", passed.inner_text()))
    assert n == total > 0
    expect_room_in_view(page)
    press(page, "Submit")
    expect(page.get_by_text("Submitted from the editor")).to_be_visible(timeout=GRADE_SECONDS)
    hidden = page.get_by_text(re.compile(r"^\d+/\d+ hidden tests passed$")).last
    expect(hidden).to_be_visible(timeout=GRADE_SECONDS)
    n, total = map(int, re.findall(r"\d+", hidden.inner_text()))
    assert n == total > 0, "the reference solution, typed in the editor, passes every test"
    reply(page, "Graded by")
    [(saved_id, answer, round_name, score)] = attempts(data_dir)
    assert saved_id == question_id and round_name == "Coding" and score is not None
    assert solution.strip().splitlines()[-1].strip() in answer


def _until_lighter(page: Page, dark: float) -> None:
    for _ in range(50):
        if luminance(room(page).get_by_test_id("code-editor")) > dark + 0.5:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the editor did not follow the light theme")


def _answer_in_chat(page: Page, text: str) -> None:
    graded = page.get_by_text("Graded by").count()
    say(page, text)
    reply(page, "words so far")
    press(page, "Submit")
    expect(page.get_by_text("Graded by")).to_have_count(graded + 1, timeout=GRADE_SECONDS)


def _finish_round(page: Page, next_label: str | None) -> None:
    """Skip follow-ups and answer the round's further questions until the pause before
    `next_label` (then start it) or, for the last round, the report."""
    follow_up = room(page).get_by_test_id("room-follow-up")
    pause = page.get_by_role("button", name="Start the next round")
    report = page.get_by_role("heading", name=re.compile("^Mock interview"))
    for _ in range(12):
        expect(follow_up.or_(pause).or_(report).or_(room(page)).first).to_be_visible(
            timeout=GRADE_SECONDS
        )
        page.wait_for_timeout(500)
        if next_label is None and report.count():
            return
        if next_label is not None and pause.count() and pause.last.is_visible():
            pause.last.click()  # the pause between rounds: the next clock starts now
            expect_room_in_view(page, next_label)
            return
        if follow_up.count():
            press(page, "Skip")
            expect(follow_up).to_have_count(0, timeout=GRADE_SECONDS)
        elif room(page).count():  # another question of the same round
            _answer_in_chat(page, "A further answer: I would start simple and measure.")
    raise AssertionError(f"the round did not end in {next_label or 'the report'}")
