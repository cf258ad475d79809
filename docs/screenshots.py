"""Take the README's screenshots from the real app in headless Chromium.

    .venv/bin/python docs/screenshots.py [--out docs/screenshots]

Starts `chainlit run` on a free port with a throw-away data dir (bot/web/launch.py), runs a drill
(question, answer, feedback), opens the score history, and starts a mock interview to show the
interview room's code editor and countdown, in the dark theme and in the light one.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from bot.web.launch import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402

ANSWERS = [
    "Continuous batching lets new requests join the running batch at every decoding step, so "
    "the GPU never waits for the slowest sequence. Paged attention stores the KV cache in fixed "
    "blocks, which removes fragmentation and lets more sequences fit in memory. The trade-off is "
    "latency: bigger batches raise throughput but each request's time per token grows, so I would "
    "cap the batch by a latency SLO and measure p95 time to first token.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ib-shots-"))
    _seed_history(tmp / "data", days=14)
    with running_app(tmp, data_dir=tmp / "data") as app:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            _drill(page, app.url, args.out)
            _mock(page, app.url, app.data_dir, args.out)
            browser.close()
    print(f"screenshots in {args.out}; server log in {app.log}")


def _seed_history(data_dir: Path, days: int) -> None:
    """Two weeks of earlier practice, so the history chart has something to show: answers
    from labelled/ (human-written, of mixed quality) graded by the offline grader, one a day,
    through the same save -> grade -> record path as the app."""
    from bot.config import Settings
    from bot.content import load_bank
    from bot.grading.offline import OfflineGrader
    from bot.interview.attempt import single_attempt
    from bot.store import AttemptStore

    bank = load_bank(ROOT)
    grader = OfflineGrader(bank)
    start = datetime.now(UTC) - timedelta(days=days)
    when = [start]
    url = Settings(data_dir=data_dir).effective_database_url
    store = AttemptStore.open(url, clock=lambda: when[0])
    picked = [s for s in bank.labelled.values() if bank.questions[s.question].kind != "coding"]
    for day in range(days):
        labelled = picked[(day * 7) % len(picked)]
        q = bank.question(labelled.question)
        answer = sorted(labelled.answers, key=lambda a: a.score)[min(day // 4, 3)]
        when[0] = start + timedelta(days=day, hours=9)
        rubric = bank.rubric(q.rubric)
        single_attempt(store, q, rubric, answer.text, grader=lambda: grader, mode="drill")
    store.close()


def _settings(page: Page, **choices: str) -> None:
    page.click("#chat-settings-open-modal")
    for field, label in choices.items():
        widget = page.locator(f"#{field}")
        if widget.get_attribute("role") == "combobox":
            widget.click()
            page.get_by_role("option", name=label).click()
        else:
            widget.fill(label)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Settings saved").last.wait_for(timeout=30_000)


def _drill(page: Page, url: str, out: Path) -> None:
    page.goto(url)
    page.get_by_text("Welcome to interview-bot").wait_for(timeout=60_000)
    _settings(page, mode="Single question", question="dd-continuous-batching")
    page.get_by_role("button", name="Start").last.click()
    page.get_by_test_id("interview-room").wait_for(timeout=60_000)
    page.get_by_text("Why this one").last.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out / "drill-question.png"))
    page.locator("#chat-input").fill(ANSWERS[0])
    page.keyboard.press("Enter")
    page.get_by_text("words so far").last.wait_for(timeout=30_000)
    _press(page, "Submit")
    page.get_by_text("Graded by").last.wait_for(timeout=90_000)
    page.get_by_text("Feedback on").last.scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    page.screenshot(path=str(out / "feedback.png"))
    _press(page, "End interview")
    page.get_by_text("## Next drills").or_(page.get_by_text("Next drills")).last.wait_for()
    page.get_by_role("button", name="History").last.click()
    chart = page.locator(".js-plotly-plot").last
    chart.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Export CSV").last.scroll_into_view_if_needed()  # the end
    page.wait_for_timeout(500)
    page.screenshot(path=str(out / "history.png"))


def _press(page: Page, action: str) -> None:
    room = page.get_by_test_id("interview-room")
    room.get_by_test_id("room-actions").get_by_role("button", name=action).click()


def _mock(page: Page, url: str, data_dir: Path, out: Path) -> None:
    """The first round of a mock interview (coding): a solution in the editor and its examples
    run, in the dark theme; then the same room in the light theme."""
    page.goto(url)
    page.get_by_text("Welcome to interview-bot").wait_for(timeout=60_000)
    _settings(page, mode="Mock interview")
    page.get_by_role("button", name="Start").last.click()
    editor = page.get_by_test_id("interview-room").get_by_label("Code editor")
    editor.wait_for(timeout=60_000)
    editor.fill(_reference(data_dir).rstrip() + "\n")
    _press(page, "Run examples")
    page.get_by_text(re.compile(r"tests passed")).last.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out / "mock-round.png"))
    page.locator("#theme-toggle").click()
    page.get_by_text("Light Theme").click()
    page.wait_for_timeout(3000)
    page.screenshot(path=str(out / "mock-round-light.png"))


def _reference(data_dir: Path) -> str:
    """The reference solution of the question the newest session has open."""
    import json
    import sqlite3

    db = sqlite3.connect(data_dir / "history.sqlite3")
    try:
        query = "select state_json from sessions order by started_at desc"
        question = json.loads(db.execute(query).fetchone()[0])["current"]["question_id"]
    finally:
        db.close()
    path = ROOT / "question_bank" / "coding" / f"{question}.yaml"
    return str(yaml.safe_load(path.read_text(encoding="utf-8"))["coding"]["reference_solution"])


if __name__ == "__main__":
    main()
