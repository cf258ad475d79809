"""Two users side by side in real headless Chromium, signed in with passwords: neither sees the
other's Resume offer or export, and each Submit grades its own user's attempt. Then a second tab
of one user: its own chat, and starting there leaves the first tab's session running."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.accounts import hash_password
from bot.store import AttemptStore
from bot.web.launch import CHROMIUM, CHROMIUM_ARGS, running_app
from tests.test_browser import GRADE_SECONDS, press, reply, say, skip_follow_ups

PASSWORDS = {"ann": "ann's long password", "ben": "ben's other password"}
ANSWERS = {
    "ann": "Ann: I would shard by key with consistent hashing and replicate each shard twice.",
    "ben": "Ben: a single leader takes writes while followers serve reads with bounded lag.",
}
WELCOME = "Welcome to interview-bot"


def sign_in(browser: Browser, url: str, user: str) -> Page:
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(url)
    page.locator("#email").fill(user)
    page.locator("#password").fill(PASSWORDS[user])
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text(WELCOME)).to_be_visible(timeout=60_000)
    return page


def rows(data_dir: Path) -> list[tuple[str, str, str, str | None]]:
    db = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        query = "select user_id, session_id, answer, status from attempts order by created_at"
        return list(db.execute(query))
    finally:
        db.close()


def submit_and_move_on(page: Page, graded: int) -> None:
    """Submit, wait for the page's `graded`-th feedback, skip follow-ups to the next question."""
    press(page, "Submit")
    feedback = page.get_by_text("Graded by offline")
    expect(feedback).to_have_count(graded, timeout=GRADE_SECONDS)
    skip_follow_ups(page, f"question {graded + 1} of 5")


def export_csv(page: Page, tmp_path: Path, name: str) -> list[dict[str, str]]:
    page.get_by_role("button", name="Export CSV").last.click()
    expect(page.get_by_text("interview-bot-attempts.csv").last).to_be_visible(timeout=30_000)
    with page.expect_download(timeout=30_000) as download:
        page.locator("a", has_text="interview-bot-attempts.csv").last.click()
    saved = tmp_path / name
    download.value.save_as(saved)
    return list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))


def test_two_users_side_by_side_and_two_tabs_of_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERVIEW_BOT_PASSWORD_LOGIN", "true")
    data_dir = tmp_path / "data"
    with AttemptStore.open(f"sqlite:///{data_dir / 'history.sqlite3'}") as store:
        for user, password in PASSWORDS.items():
            store.add_user(user, password_hash=hash_password(password))
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    with running_app(tmp_path / "app", data_dir=data_dir) as app, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ann, ben = sign_in(browser, app.url, "ann"), sign_in(browser, app.url, "ben")
        for page, user in ((ann, "ann"), (ben, "ben")):
            expect(page.get_by_role("button", name="Resume")).to_have_count(0)
            page.get_by_role("button", name="Start").first.click()
            reply(page, "Why this one", label="Drill C3 · question 1 of 5")
            say(page, ANSWERS[user])
            reply(page, "words so far")
        submit_and_move_on(ann, 1)
        submit_and_move_on(ben, 1)
        first = rows(data_dir)
        assert sorted((u, a) for u, _, a, _ in first) == sorted(ANSWERS.items())
        ann_session = next(s for u, s, _, _ in first if u == "ann")

        # Ann's second tab: its own chat, offered her session (never Ben's), and a Start there
        # leaves the first tab's session running
        second = ann.context.new_page()
        second.goto(app.url)
        expect(second.get_by_text(WELCOME)).to_be_visible(timeout=60_000)
        expect(second.get_by_role("button", name="Resume")).to_have_count(1)
        second.get_by_role("button", name="Start").first.click()
        reply(second, "Why this one", label="Drill C3 · question 1 of 5")
        say(ann, "Ann again: the second question's answer, from the first tab.")
        reply(ann, "words so far")
        submit_and_move_on(ann, 2)
        ben_rows = export_csv(ben, tmp_path, "ben.csv")
        ann_rows = export_csv(ann, tmp_path, "ann.csv")
        browser.close()
    assert [r["answer"] for r in ben_rows] == [ANSWERS["ben"]]
    assert len(ann_rows) == 2 and ANSWERS["ben"] not in {r["answer"] for r in ann_rows}
    everything = rows(data_dir)
    assert [s for u, s, _, _ in everything if u == "ann"] == [ann_session, ann_session]
    assert {status for *_, status in everything} == {"graded"}
