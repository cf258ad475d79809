from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config import PROJECT_ROOT, get_settings
from bot.content.bank import COVERAGE_FILE, LABELLED_DIR, REQUIRED_DIRS
from bot.sandbox import protections
from bot.web.server import FOOTER_LLM, FOOTER_OFFLINE, WELCOME, prepare_app_root
from tests.answers import GREEDY_COINS


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_console_script_validates_real_content() -> None:
    exe = Path(sys.executable).with_name("interview-bot")
    done = subprocess.run([str(exe), "validate"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Content OK" in done.stdout and "0 errors" in done.stdout


def test_validate_summary_json(capsys: pytest.CaptureFixture[str], mini_root: Path) -> None:
    code, out, _ = run(capsys, "validate", "--root", str(mini_root), "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True
    assert data["questions"] == 4 and data["rubrics"] == 5
    assert data["by_competency"] == {"BH": 1, "C1": 1, "C6": 2}


def test_validate_lists_every_error(capsys: pytest.CaptureFixture[str], mini_root: Path) -> None:
    q = mini_root / "question_bank/llm_deep_dive/dd-kv-cache.yaml"
    q.write_text(q.read_text().replace("difficulty: 3", "difficulty: 9"))
    r = mini_root / "rubrics/coding.yaml"
    r.write_text(r.read_text().replace("pass_mark: 60", "pass_mark: 60\nextra: 1"))
    code, out, err = run(capsys, "validate", "--root", str(mini_root))
    assert code == 1
    lines = out.strip().splitlines()
    assert any(
        line.startswith("question_bank/llm_deep_dive/dd-kv-cache.yaml:")
        and ": difficulty: " in line
        for line in lines
    )
    assert any(
        line.startswith("rubrics/coding.yaml:") and ": extra: unknown field" in line
        for line in lines
    )
    assert "2 error(s)" in err


def test_validate_reports_a_missing_directory_with_the_file_errors(
    capsys: pytest.CaptureFixture[str], mini_root: Path
) -> None:
    shutil.rmtree(mini_root / "rubrics")
    q = mini_root / "question_bank/llm_deep_dive/dd-kv-cache.yaml"
    q.write_text(q.read_text().replace("difficulty: 3", "difficulty: [3"))
    code, out, err = run(capsys, "validate", "--root", str(mini_root))
    assert code == 1
    assert out.splitlines()[0].startswith("question_bank/llm_deep_dive/dd-kv-cache.yaml:")
    assert out.splitlines()[1] == "rubrics/:0: (dir): directory is missing"
    assert "2 error(s)" in err


def test_validate_needs_only_the_three_content_dirs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for sub in REQUIRED_DIRS:
        shutil.copytree(PROJECT_ROOT / sub, tmp_path / "root" / sub)
    code, out, _ = run(capsys, "validate", "--root", str(tmp_path / "root"), "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["questions"] >= 150
    assert data["labelled_answers"] == 0


def test_eval_grader_labelled_says_where_the_labelled_set_belongs(
    capsys: pytest.CaptureFixture[str], mini_root: Path
) -> None:
    shutil.rmtree(mini_root / LABELLED_DIR)
    code, _, err = run(capsys, "eval-grader", "--labelled", "--root", str(mini_root))
    assert code == 1
    assert f"no labelled answers: {mini_root / LABELLED_DIR} is missing or empty" in err


def test_serve_takes_the_welcome_page_from_the_content_dir(mini_root: Path, tmp_path: Path) -> None:
    app_root = prepare_app_root(tmp_path / "web", content_dir=mini_root)
    assert (app_root / WELCOME).read_bytes() == (PROJECT_ROOT / WELCOME).read_bytes()
    (mini_root / WELCOME).write_text("# Our own interview club\n")
    prepare_app_root(app_root, content_dir=mini_root)
    assert (app_root / WELCOME).read_text() == "# Our own interview club\n"
    assert (app_root / ".chainlit" / "config.toml").is_file()


def test_the_footer_names_the_grader_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    english = tmp_path / "web" / ".chainlit" / "translations" / "en-US.json"
    prepare_app_root(tmp_path / "web")
    texts = json.loads(english.read_text(encoding="utf-8"))
    assert texts["chat"]["watermark"] == FOOTER_OFFLINE and texts["chat"]["input"]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    get_settings.cache_clear()
    try:
        prepare_app_root(tmp_path / "web")
    finally:
        monkeypatch.delenv("OPENAI_API_KEY")
        get_settings.cache_clear()
    assert json.loads(english.read_text(encoding="utf-8"))["chat"]["watermark"] == FOOTER_LLM


def test_questions_filters_and_json(capsys: pytest.CaptureFixture[str], mini_root: Path) -> None:
    code, out, _ = run(capsys, "questions", "--root", str(mini_root), "--kind", "coding", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["id"] for r in rows] == ["coding-pair-sum-indices"]
    row = rows[0]
    assert {"id", "kind", "competency", "difficulty", "tags", "rubric", "reference"} <= set(row)
    assert row["reference_path"] == "kb/reference/coding-pair-sum-indices.md"
    code, out, _ = run(capsys, "questions", "--root", str(mini_root), "--competency", "c6")
    assert code == 0 and "sd-url-shortener" in out and "dd-kv-cache" in out
    assert "coding-pair-sum-indices" not in out and "2 of 4 questions" in out
    _, out, _ = run(capsys, "questions", "--root", str(mini_root), "--tag", "kv-cache", "--json")
    assert [r["id"] for r in json.loads(out)] == ["dd-kv-cache"]


def test_schema_writes_json_schemas(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, _ = run(capsys, "schema", "--out", str(tmp_path / "s"))
    assert code == 0
    question = json.loads((tmp_path / "s/question.schema.json").read_text())
    assert question["additionalProperties"] is False
    assert {"id", "kind", "key_points", "rubric"} <= set(question["required"])
    assert json.loads((tmp_path / "s/rubric.schema.json").read_text())["title"] == "Rubric"


def test_config_masks_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRETVALUE123456")
    monkeypatch.setenv("INTERVIEW_BOT_DATABASE_URL", "postgresql://bob:hunter2@db/ib")
    code, out, _ = run(capsys, "config", "--json")
    data = json.loads(out)
    assert code == 0
    assert "SECRETVALUE" not in out and "hunter2" not in out
    assert data["openai_api_key"] == "(set) ****"
    assert data["database_url"] == "postgresql://bob:****@db/ib"
    assert data["data_dir"] == str(tmp_path / "data")


def test_config_reads_dotenv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("INTERVIEW_BOT_GRADER=offline\nCHROMA_PORT=9123\n")
    _, out, _ = run(capsys, "config", "--json")
    data = json.loads(out)
    assert data["grader"] == "offline" and data["chroma_port"] == "9123"


def test_check_runs_reference_and_candidate(
    capsys: pytest.CaptureFixture[str], mini_root: Path, tmp_path: Path
) -> None:
    def check(*args: str) -> tuple[int, dict[str, Any]]:
        code, out, _ = run(
            capsys,
            "check",
            "--root",
            str(mini_root),
            "--question",
            "coding-pair-sum-indices",
            "--json",
            *args,
        )
        return code, json.loads(out)

    code, data = check("--reference")
    assert code == 0 and data["passed"] == data["total"] == 11  # 2 examples, 8 tests, 1 bound
    assert {"passed", "total", "results", "protections", "growth"} <= set(data)
    assert {r["status"] for r in data["results"]} == {"passed"}
    assert [r["hidden"] for r in data["results"]] == [False] * 2 + [True] * 9
    assert [r["check"] for r in data["results"]][-1] == "scaling"
    assert data["protections"] == {k: p.to_dict() for k, p in protections().items()}
    wrong = tmp_path / "wrong.py"
    wrong.write_text("def pair_sum_indices(nums, target):\n    return [0, 1]\n")
    code, data = check("--code-file", str(wrong), "--examples-only")
    assert code == 1 and data["total"] == 2
    assert [r["status"] for r in data["results"]] == ["passed", "failed"]
    crash = tmp_path / "crash.py"
    crash.write_text("import os\ndef pair_sum_indices(nums, target):\n    os._exit(3)\n")
    code, data = check("--code-file", str(crash), "--examples-only")
    assert code == 1 and [r["status"] for r in data["results"]] == ["killed", "killed"]
    assert data["results"][0]["error"] == "the process exited with code 3"


def test_check_prints_each_test_and_what_is_unprotected(
    capsys: pytest.CaptureFixture[str], mini_root: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("x = '[red]oops[/red]' +\n")
    args = ["check", "--root", str(mini_root), "--question", "coding-pair-sum-indices"]
    code, out, err = run(capsys, *args, "--code-file", str(broken))
    assert code == 1 and "The code did not load:" in out and "SyntaxError" in out
    assert "[red]oops[/red]" in out, "the code's own text is printed as it is, not as markup"
    code, out, err = run(capsys, *args, "--reference", "--examples-only")
    assert code == 0 and "2/2 passed in" in out
    assert out.count("passed ") == 3 and "basic (general)" in out
    missing = [name for name, p in protections().items() if not p.active]
    assert ("unprotected here" in err) == bool(missing)


def test_every_command_is_registered(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    listed = {
        line.split()[1] for line in out.splitlines() if line.startswith("│ ") and "  " in line
    }
    assert code == 0
    assert {
        "validate", "schema", "questions", "coverage", "config", "check", "grade", "practice",
        "history", "export", "eval-grader", "index", "search", "eval-retrieval", "serve",
    } <= listed  # fmt: skip


def test_unknown_question_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], mini_root: Path
) -> None:
    code, _, err = run(
        capsys, "check", "--root", str(mini_root), "--question", "dd-kv-cach", "--reference"
    )
    assert code == 1 and "unknown question 'dd-kv-cach'" in err and "dd-kv-cache" in err


def test_check_refuses_non_coding_question(
    capsys: pytest.CaptureFixture[str], mini_root: Path
) -> None:
    code, _, err = run(
        capsys, "check", "--root", str(mini_root), "--question", "dd-kv-cache", "--reference"
    )
    assert code == 1 and "not a coding one" in err


def test_content_dir_comes_from_settings(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, mini_root: Path
) -> None:
    monkeypatch.setenv("INTERVIEW_BOT_CONTENT_DIR", str(mini_root))
    _, out, _ = run(capsys, "questions", "--json")
    assert len(json.loads(out)) == 4
    assert PROJECT_ROOT != mini_root


def test_coverage_report_meets_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "coverage", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"], report["problems"]
    assert report["counts"]["total"] >= 150 and report["counts"]["labelled_questions"] >= 40
    for kind, levels in report["difficulty"].items():
        assert sorted(levels) == ["1", "2", "3", "4", "5"], kind
    assert all(ids for table in report["items"].values() for ids in table.values())


def test_coverage_report_fails_on_a_missing_topic(
    capsys: pytest.CaptureFixture[str], mini_root: Path
) -> None:
    (mini_root / COVERAGE_FILE).write_text(
        "targets: {total: 5}\nitems:\n  coding:\n    tries: [coding-trie]\n"
    )
    code, out, _ = run(capsys, "coverage", "--root", str(mini_root), "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    assert "total: 4 < 5" in report["problems"]
    assert any("'tries' has no coding question" in p for p in report["problems"])


def test_practice_saves_the_answer_then_history_and_export(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import csv
    import io
    import sys

    answer = "The KV cache keeps the keys and values of earlier tokens so they are not recomputed."
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
    code, out, _ = run(capsys, "practice", "--question", "dd-kv-cache", "--grader", "offline")
    assert code == 0 and "Score:" in out and "Reference answer" in out
    code, out, _ = run(capsys, "history", "--json")
    data = json.loads(out)
    assert code == 0 and data["competencies"]["C6"]["graded"] == 1
    assert data["attempts"][0]["answer"] == answer
    attempts, key_points = tmp_path / "a.csv", tmp_path / "kp.csv"
    code, _, err = run(
        capsys, "export", "--format", "csv", "--out", str(attempts), "--key-points", str(key_points)
    )
    assert code == 0 and f"wrote {attempts}" in err and f"wrote {key_points}" in err
    rows = list(csv.DictReader(io.StringIO(attempts.read_text(encoding="utf-8"), newline="")))
    assert [r["question_id"] for r in rows] == ["dd-kv-cache"]
    assert (
        rows[0]["answer"] == answer
        and rows[0]["question_title"] == "The KV cache in autoregressive decoding"
    )
    assert (
        rows[0]["criterion:accuracy"] in {"0", "1", "2", "3", "4"} and rows[0]["mode"] == "single"
    )
    points = list(csv.DictReader(io.StringIO(key_points.read_text(encoding="utf-8"))))
    assert points and {p["attempt_id"] for p in points} == {rows[0]["attempt_id"]}
    assert {p["status"] for p in points} <= {"covered", "partial", "missed"}
    code, out, _ = run(capsys, "export", "--format", "json", "--since", "2000-01-01")
    exported = json.loads(out)
    assert exported["format_version"] == 2
    assert exported["attempts"][0]["grade"]["question_id"] == "dd-kv-cache"
    assert exported["attempts"][0]["attempt_id"] == rows[0]["attempt_id"]
    code, _, err = run(capsys, "export", "--format", "json", "--key-points", str(key_points))
    assert code == 1 and "--key-points goes with --format csv" in err
    code, out, _ = run(capsys, "export", "--since", "2999-01-01")
    assert code == 0 and len(out.strip().splitlines()) == 1, "only the header"
    code, _, err = run(capsys, "export", "--since", "yesterday")
    assert code == 1 and "--since takes a date" in err


def test_history_marks_a_retry_made_after_the_feedback(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.config import get_settings
    from bot.store import AttemptStore
    from tests.test_history import make_grade

    fields = {"question_id": "dd-kv-cache", "kind": "llm_deep_dive", "competency": "C6"}
    with AttemptStore.open(get_settings().effective_database_url) as store:
        sid = store.start_session("drill")
        first = store.save_answer(session_id=sid, answer="first", difficulty=3, **fields)
        store.record_grade(first, make_grade(40))
        retry = store.save_answer(session_id=sid, answer="retry", difficulty=3, **fields)
        store.record_grade(retry, make_grade(75))

    code, out, _ = run(capsys, "history")
    lines = [line for line in out.splitlines() if "dd-kv-cache" in line]
    assert code == 0 and len(lines) == 2
    assert lines[0].endswith(" 40") and "retry after feedback" not in lines[0]
    assert lines[1].endswith(" 75  retry after feedback")
    code, out, _ = run(capsys, "history", "--json")
    assert [a["seen_key_points"] for a in json.loads(out)["attempts"]] == [False, True]


def _coin_change_answers() -> dict[str, str]:
    from bot.content import load_bank

    coding = load_bank(PROJECT_ROOT).question("coding-coin-change").coding
    assert coding is not None
    right = f"Bottom-up DP over amounts.\n\n```python\n{coding.reference_solution}\n```\n"
    return {"reference": right, "greedy": GREEDY_COINS}


@pytest.mark.parametrize("solution", ["reference", "greedy"])
def test_grade_runs_a_coding_answers_hidden_tests_and_prints_the_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, solution: str
) -> None:
    answer = tmp_path / "answer.md"
    answer.write_text(_coin_change_answers()[solution])
    args = ("grade", "--question", "coding-coin-change", "--answer-file", str(answer))
    code, out, _ = run(capsys, *args, "--grader", "offline", "--json")
    graded = json.loads(out)
    run_ = graded["run"]
    correctness = next(c for c in graded["criteria"] if c["id"] == "correctness")
    total = 10 + 1  # the 10 hidden tests, then the question's scaling bound
    assert code == 0 and run_["code_found"] and run_["total"] == total == len(run_["tests"])
    assert all(
        set(t) == {"name", "category", "status", "seconds", "message"} for t in run_["tests"]
    )
    assert all(t["message"] is None for t in run_["tests"][:10])  # tests, then the bound
    code, text, _ = run(capsys, *args, "--grader", "offline")
    table = text[text.index("Hidden tests:") :]
    assert code == 0 and text.index("Score:") < text.index("Hidden tests:")
    status = {t["name"]: t["status"] for t in run_["tests"]}
    assert f"Hidden tests: {run_['passed']}/{total} passed" in table
    for name in status:
        row = next(line for line in table.splitlines() if f" {name} " in line)
        assert status[name] in row
    if solution == "reference":
        assert run_["passed"] == total and correctness["level"] == 4
    else:
        assert status["greedy trap"] == "failed" and status["zero amount"] == "passed"
        assert 0 < run_["passed"] < total and correctness["level"] < 4
        assert "greedy fails" in correctness["evidence"][0]


def test_grade_of_a_coding_answer_without_code_says_no_code_was_found(
    capsys: pytest.CaptureFixture[str],
) -> None:
    prose = "I would fill a table of the fewest coins for every amount from 0 upward."
    args = ("grade", "--question", "coding-coin-change", "--answer", prose, "--grader", "offline")
    code, out, _ = run(capsys, *args, "--json")
    graded = json.loads(out)
    correctness = next(c for c in graded["criteria"] if c["id"] == "correctness")
    assert code == 0 and graded["run"]["code_found"] is False and graded["run"]["total"] == 0
    assert correctness["level"] == 0 and correctness["evidence"] == ["no code found in the answer"]
    code, text, _ = run(capsys, *args)
    assert code == 0 and "No code to run: no Python code found in the answer" in text


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_an_endless_answer_file_is_read_only_up_to_the_cap(how: str) -> None:
    """/dev/zero as the answer: read no further than MAX_ANSWER_BYTES, graded, and said so
    (the process is held to 3 GB of address space, so reading on without end fails)."""
    import resource

    from bot.text import ANSWER_CUT

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    source = "/dev/zero" if how == "file" else "-"
    args = ["grade", "--question", "dd-kv-cache", "--grader", "offline", "--answer-file", source]
    with open("/dev/zero", "rb") as zeros:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=PROJECT_ROOT,
            stdin=zeros,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=limited,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert ANSWER_CUT in " ".join(done.stderr.split()) and "Score" in done.stdout
