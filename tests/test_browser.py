"""End to end in real headless Chromium: start a drill, answer, submit, see the score, export.

Chromium is Debian's (`apt-get install chromium`, done by .ci/run), driven by Playwright through
its executable path; no browser is downloaded.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bot.web.launch import CHROMIUM, CHROMIUM_ARGS, running_app

ANSWER = (
    "Continuous batching lets new requests join the running batch at every decoding step "
    "instead of waiting for the slowest sequence, which raises GPU utilisation and throughput."
)


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


def test_drill_answer_submit_score_and_export(
    server: tuple[str, Path], page: Page, tmp_path: Path
) -> None:
    url, data_dir = server
    page.goto(url)
    expect(page.get_by_text("Welcome to interview-bot")).to_be_visible(timeout=60_000)
    assert page.title() == "interview-bot"

    page.get_by_role("button", name="Start").first.click()
    expect(page.get_by_text("Why this one").last).to_be_visible(timeout=60_000)
    page.locator("#chat-input").fill(ANSWER)
    page.keyboard.press("Enter")
    expect(page.get_by_text("words so far").last).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Submit").last.click()

    score = page.locator('[data-step-type="assistant_message"] h3', has_text="Score:").last
    expect(score).to_be_visible(timeout=90_000)
    shown = score.inner_text()  # e.g. "Score: 41/100 — ✘ below the pass mark"
    expect(page.get_by_text("Graded by offline").last).to_be_visible()

    db = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        row = db.execute("select question_id, answer, score from attempts").fetchone()
    finally:
        db.close()
    question_id, answer, stored = row
    assert answer == ANSWER
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


def test_a_full_mock_interview_in_the_browser(server: tuple[str, Path], page: Page) -> None:
    """Settings dialog -> mock plan -> every round answered and submitted -> the final report."""
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

    last = page.locator('[data-step-type="assistant_message"]').last
    report = page.get_by_role("heading", name="Mock interview: Standard GenAI-engineer loop")
    graded = 0
    for number, name in enumerate(["Coding", "System design", "LLM deep-dive"], start=1):
        timer = page.get_by_test_id("round-timer").last
        expect(timer).to_contain_text(f"Round {number}/3: {name}", timeout=60_000)
        while True:  # a round asks the questions that fit its minutes
            page.locator("#chat-input").fill(f"My answer for round {number}: I would start simple.")
            page.keyboard.press("Enter")
            expect(page.get_by_text("words so far").last).to_be_visible(timeout=30_000)
            page.get_by_role("button", name="Submit").last.click()
            graded += 1
            expect(page.get_by_text("Graded by")).to_have_count(graded, timeout=90_000)
            for _ in range(3):  # follow-ups: skip them
                page.wait_for_timeout(500)
                if not last.inner_text().startswith("Follow-up"):
                    break
                last.get_by_role("button", name="Skip").click()
            page.wait_for_timeout(1000)
            next_round = page.get_by_role("button", name="Start the next round")
            if next_round.count() and next_round.last.is_visible():
                next_round.last.click()  # the pause between rounds
                break
            if report.count():
                break

    report = page.get_by_role("heading", name="Mock interview: Standard GenAI-engineer loop")
    expect(report).to_be_visible(timeout=60_000)
    expect(page.get_by_text("interview-report.md").last).to_be_visible()
    db = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        rounds = [r[0] for r in db.execute("select round from attempts order by created_at")]
        ended = db.execute("select ended_at from sessions").fetchone()[0]
    finally:
        db.close()
    assert rounds == ["Coding", "System design", "LLM deep-dive"]
    assert ended is not None
