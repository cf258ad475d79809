"""No dead ends (#19), in real headless Chromium: the settings show only the chosen mode's fields
and are there again after a reload; unsent text in the chat box survives a reload; the history
chart is themed, with full competency names, the pass and hire lines and no toolbar; a second
Start asks first; after a server restart the room's old Submit offers Resume; Discard ends a
session. Screenshots go to /tmp/deadends-*.png for a look."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bot.store import AttemptStore
from bot.web import sessions
from bot.web.launch import CHROMIUM, CHROMIUM_ARGS, free_port, running_app
from tests.test_browser import GRADE_SECONDS, room
from tests.test_history import answer, make_grade

SHOTS = Path("/tmp")
DRAFT = "A half-typed answer about the KV cache, not sent yet"
WELCOME = "Welcome to interview-bot"


@pytest.fixture
def page() -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        context.close()
        browser.close()


def seed_history(data_dir: Path) -> None:
    """Two graded attempts, so the history has a chart."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with AttemptStore.open(f"sqlite:///{data_dir / 'history.sqlite3'}") as store:
        sid = store.start_session("drill")
        for question, kind, competency, score in (
            ("dd-kv-cache", "llm_deep_dive", "C6", 55),
            ("sd-url-shortener", "system_design", "C4", 72),
        ):
            kw = {"question_id": question, "kind": kind, "competency": competency}
            store.record_grade(answer(store, sid, difficulty=3, **kw), make_grade(score))
        store.end_session(sid)


def open_sessions(data_dir: Path) -> list[str]:
    db = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        query = "select id from sessions where ended_at is null and state_json is not null"
        return [row[0] for row in db.execute(query)]
    finally:
        db.close()


def welcomed(page: Page, times: int = 1) -> None:
    expect(page.get_by_text(WELCOME)).to_have_count(times, timeout=90_000)


def test_no_dead_ends(tmp_path: Path, page: Page) -> None:
    data, port = tmp_path / "data", free_port()
    seed_history(data)
    with running_app(tmp_path / "app", data_dir=data, port=port) as app:
        page.goto(app.url)
        welcomed(page)
        _settings_show_one_mode(page)
        _draft_survives_a_reload(page)
        _themed_chart(page)
        _second_start_asks_first(page)
        running = open_sessions(data)
        assert len(running) == 1
        page.locator("#chat-input").fill(DRAFT)
    # the server restarts on the same port; the page stays as it was
    with running_app(tmp_path / "app", data_dir=data, port=port):
        welcomed(page, 2)  # the page reconnected: a new chat, with the unfinished session
        expect(page.get_by_text("Unfinished session").last).to_be_visible()
        expect(page.locator("#chat-input")).to_have_value(DRAFT)  # the unsent text is kept
        page.screenshot(path=SHOTS / "deadends-after-restart.png")
        _stale_submit_offers_resume(page)
        _abandon_and_discard(page, data, running[0])


def _settings_show_one_mode(page: Page) -> None:
    page.click("#chat-settings-open-modal")
    expect(page.locator("#competency")).to_be_visible()
    expect(page.locator("#plan")).to_have_count(0)
    page.locator("#mode").click()
    page.get_by_role("option", name="Mock interview").click()
    expect(page.locator("#plan")).to_be_visible(timeout=10_000)  # the mock fields, sent anew
    expect(page.locator("#competency")).to_have_count(0)
    expect(page.locator("#question")).to_have_count(0)
    page.locator("#minutes").fill("20, 25, 15")
    page.screenshot(path=SHOTS / "deadends-settings-mock.png")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Settings saved").last).to_contain_text("Mock interview")


def _draft_survives_a_reload(page: Page) -> None:
    page.locator("#chat-input").fill(DRAFT)
    page.wait_for_timeout(600)  # the autosave looks every 400 ms
    page.reload()
    welcomed(page)
    expect(page.locator("#chat-input")).to_have_value(DRAFT)
    # the settings were kept for this user: the new chat starts from them
    first = page.locator('[data-step-type="assistant_message"]', has_text=WELCOME).last
    expect(first).to_contain_text("Mock interview, plan 'standard'")
    page.click("#chat-settings-open-modal")
    expect(page.locator("#minutes")).to_have_value("20, 25, 15")
    expect(page.locator("#competency")).to_have_count(0)
    page.get_by_role("button", name="Cancel").click()
    # sending empties the box and the saved draft: a reload brings nothing back
    page.locator("#chat-input").press("Enter")
    expect(page.get_by_text("No session is running").last).to_be_visible(timeout=30_000)
    expect(page.locator("#chat-input")).to_have_value("")
    page.wait_for_timeout(600)
    page.reload()
    welcomed(page)
    page.wait_for_timeout(600)
    expect(page.locator("#chat-input")).to_have_value("")


def _themed_chart(page: Page) -> None:
    page.get_by_role("button", name="Progress & history").last.click()
    chart = page.locator(".js-plotly-plot").last
    expect(chart).to_be_visible(timeout=30_000)
    chart.scroll_into_view_if_needed()
    legend = chart.locator(".legendtext")
    expect(legend).to_have_count(2)
    names = legend.all_text_contents()  # SVG text has no inner text
    assert all(re.match(r"^C[46] \w", n) and len(n) > 4 for n in names), names
    notes = " ".join(chart.locator(".annotation-text").all_text_contents())
    assert "pass 60" in notes and "mid hire bar" in notes
    expect(chart.locator(".modebar-btn")).to_have_count(0)  # no toolbar over the legend
    assert chart.locator(".main-svg").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    ) in ("rgba(0, 0, 0, 0)", "transparent")
    dark = legend.first.evaluate("e => getComputedStyle(e).fill")
    page.screenshot(path=SHOTS / "deadends-chart-dark.png")
    page.locator("#theme-toggle").click()
    page.get_by_text("Light Theme").click()
    expect(legend.first).not_to_have_css("fill", dark)  # the text follows the theme
    chart.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "deadends-chart-light.png")
    page.locator("#theme-toggle").click()
    page.get_by_text("Dark Theme").click()


def _second_start_asks_first(page: Page) -> None:
    page.get_by_role("button", name="Start").last.click()
    expect(room(page).get_by_text("Round 1/3: Coding")).to_be_visible(timeout=GRADE_SECONDS)
    page.get_by_role("button", name="Start").first.click()  # the welcome's old Start
    asked = page.get_by_text("is running in this chat").last
    expect(asked).to_be_visible(timeout=30_000)
    page.screenshot(path=SHOTS / "deadends-start-asks.png")
    page.get_by_role("button", name=sessions.CONTINUE).last.click()
    expect(room(page).get_by_text("Round 1/3: Coding")).to_be_visible(timeout=30_000)


def _stale_submit_offers_resume(page: Page) -> None:
    submit = room(page).get_by_test_id("room-actions").get_by_role("button", name="Submit")
    expect(submit).to_be_visible()
    submit.click()  # the room's Submit, from before the restart
    stale = page.get_by_text(sessions.NOT_OPEN).last
    expect(stale).to_be_in_viewport(timeout=30_000)  # the room's Submit shows its reply
    expect(page.get_by_text("No session is running")).to_have_count(0)
    page.screenshot(path=SHOTS / "deadends-stale-submit.png")
    page.get_by_role("button", name="Resume", exact=True).last.click()
    expect(page.get_by_text("Resumed where you left off").last).to_be_visible(timeout=60_000)
    expect(room(page).get_by_text("Round 1/3: Coding")).to_be_visible()


def _abandon_and_discard(page: Page, data: Path, first: str) -> None:
    asked = page.locator('[data-step-type="assistant_message"]', has_text="is running in this")
    before = asked.count()
    page.get_by_role("button", name="Start").first.click()
    expect(asked).to_have_count(before + 1, timeout=30_000)
    calls: list[str] = []  # the actions the page called, for the message should this fail
    page.on("response", lambda r: calls.append(f"{r.status} {r.request.post_data}"))
    asked.last.get_by_role("button", name=sessions.ABANDON).click()
    for _ in range(120):  # the new session is open once its first question is asked
        if open_sessions(data) and open_sessions(data) != [first]:
            break
        page.wait_for_timeout(500)
    actions = [c for c in calls if '"action"' in c]
    [second] = open_sessions(data)
    assert second != first, f"the first was abandoned, a new one runs; actions: {actions}"
    expect(room(page).get_by_text("Round 1/3: Coding")).to_be_visible(timeout=GRADE_SECONDS)
    page.reload()
    welcomed(page)
    mock = "Mock interview 'standard' at the mid bar"
    listed = page.get_by_role("listitem").filter(has_text=mock)
    expect(listed).to_have_count(1)
    page.get_by_role("button", name="Discard", exact=True).last.click()
    expect(page.get_by_text(re.compile("^Discarded")).last).to_be_visible(timeout=30_000)
    assert open_sessions(data) == []
