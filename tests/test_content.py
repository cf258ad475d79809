from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import PROJECT_ROOT
from bot.content import load_bank
from bot.content.bank import COVERAGE_FILE, LABELLED_DIR, PLANS_DIR, REQUIRED_DIRS
from bot.content.marks import first_marks, marked_ids, strip_marks
from bot.content.select import select_questions
from bot.errors import ContentError, NotFoundError

Q = "question_bank/llm_deep_dive/dd-kv-cache.yaml"
CODING = "question_bank/coding/coding-pair-sum-indices.yaml"
DOC = "kb/reference/dd-kv-cache.md"
LABELLED = f"{LABELLED_DIR}/dd-kv-cache.yaml"
GENAI = f"{PLANS_DIR}/genai-design.yaml"


def test_real_content_loads_and_is_consistent() -> None:
    bank = load_bank(PROJECT_ROOT)
    assert bank.questions, "the question bank is empty"
    for qid, q in bank.questions.items():
        doc = bank.reference(qid)
        assert qid in doc.doc.questions
        assert set(q.key_point_ids) <= set(doc.marks), f"{qid}: key points not marked"
        assert q.rubric in bank.rubrics
    kinds = {q.kind for q in bank.questions.values()}
    assert kinds == {"coding", "system_design", "llm_deep_dive", "behavioral"}


def test_mini_root_is_valid(mini_root: Path) -> None:
    bank = load_bank(mini_root)
    assert len(bank.questions) == 4
    assert bank.summary()["by_kind"] == {
        "behavioral": 1,
        "coding": 1,
        "llm_deep_dive": 1,
        "system_design": 1,
    }


def replace(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / rel
        text = path.read_text()
        assert old in text, f"fixture text not found: {old!r}"
        path.write_text(text.replace(old, new, 1))

    return apply


def line_of(rel: str, needle: str) -> int:
    for number, line in enumerate((PROJECT_ROOT / rel).read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def add_file(rel: str, source: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / rel).write_text((root / source).read_text().replace(old, new))

    return apply


BROKEN = [
    pytest.param(
        replace(Q, "difficulty: 3", "difficulty: [3"),
        Q,
        line_of(Q, "difficulty") + 1,
        "(yaml)",
        "YAML syntax error",
        id="yaml-syntax",
    ),
    pytest.param(
        replace(Q, "difficulty: 3", "difficulty: 3\ncolour: blue"),
        Q,
        line_of(Q, "difficulty") + 1,
        "colour",
        "unknown field",
        id="unknown-field",
    ),
    pytest.param(
        replace(Q, "rubric: deep-dive", "rubric: deep-dve"),
        Q,
        line_of(Q, "rubric:"),
        "rubric",
        "no rubric 'deep-dve' (did you mean 'deep-dive'?)",
        id="missing-rubric",
    ),
    pytest.param(
        add_file(
            "question_bank/llm_deep_dive/dd-copy.yaml", Q, "id: dd-kv-cache\n", "id: dd-copy\n"
        ),
        "question_bank/llm_deep_dive/dd-copy.yaml",
        line_of(Q, "reference:"),
        "reference",
        "does not list this question",
        id="reference-does-not-list",
    ),
    pytest.param(
        replace(Q, "title: The KV cache", "id: dd-kv-cache\ntitle: The KV cache"),
        Q,
        line_of(Q, "title:"),
        "id",
        "duplicate key",
        id="duplicate-key",
    ),
    pytest.param(
        replace(
            Q, "probes: [memory-bound, compute-savings]", "probes: [memory-bound, compute-saving]"
        ),
        Q,
        line_of(Q, "probes: [memory-bound, compute-savings]"),
        "follow_ups[2].probes[1]",
        "no key point 'compute-saving'",
        id="dangling-follow-up",
    ),
    pytest.param(
        replace(Q, "difficulty: 3", "difficulty: 7"),
        Q,
        line_of(Q, "difficulty"),
        "difficulty",
        "less than or equal to 5",
        id="difficulty-range",
    ),
    pytest.param(
        replace(Q, "prompt: |", "prompt: ''\nold_prompt: |"),
        Q,
        line_of(Q, "prompt:"),
        "prompt",
        "at least 1 character",
        id="empty-prompt",
    ),
    pytest.param(
        replace(DOC, "kind: reference", "kind: answer"),
        DOC,
        line_of(DOC, "kind:"),
        "kind",
        "'reference' or 'note'",
        id="bad-front-matter",
    ),
    pytest.param(
        replace(DOC, "---\nid: dd-kv-cache", "id: dd-kv-cache"),
        DOC,
        1,
        "(front matter)",
        "missing front matter",
        id="no-front-matter",
    ),
    pytest.param(
        replace(DOC, "<!-- key_points: memory-bound -->", ""),
        Q,
        line_of(Q, "id: memory-bound"),
        "key_points[3].id",
        "not marked in kb/reference",
        id="key-point-not-covered",
    ),
    pytest.param(
        replace(CODING, "weight: 3", "weight: -1"),
        CODING,
        line_of(CODING, "weight: 3"),
        "key_points[1].weight",
        "greater than 0",
        id="negative-weight",
    ),
    pytest.param(
        replace(CODING, "prerequisites: []", "prerequisites: [coding-nope]"),
        CODING,
        line_of(CODING, "prerequisites"),
        "prerequisites[0]",
        "no question 'coding-nope'",
        id="dangling-prerequisite",
    ),
    pytest.param(
        replace(CODING, "entry_point: pair_sum_indices", "entry_point: class"),
        CODING,
        line_of(CODING, "entry_point"),
        "coding.entry_point",
        "keyword",
        id="keyword-entry-point",
    ),
    pytest.param(
        replace(LABELLED, "covers: [what-is-cached]", "covers: [what-is-cashed]"),
        LABELLED,
        line_of(LABELLED, "covers: [what-is-cached]"),
        "answers[2].covers[0]",
        "no key point 'what-is-cashed'",
        id="labelled-covers",
    ),
]


@pytest.mark.parametrize(("breakage", "path", "line", "field", "message"), BROKEN)
def test_broken_file_reports_file_line_field(
    mini_root: Path,
    breakage: Callable[[Path], None],
    path: str,
    line: int,
    field: str,
    message: str,
) -> None:
    breakage(mini_root)
    with pytest.raises(ContentError) as caught:
        load_bank(mini_root)
    matching = [i for i in caught.value.issues if i.path == path and message in i.message]
    assert matching, f"no issue with {message!r} in {path}: {caught.value}"
    assert matching[0].line == line
    assert field in matching[0].field


def test_all_errors_are_reported_at_once(mini_root: Path) -> None:
    for breakage, *_ in (p.values for p in BROKEN[5:9]):
        breakage(mini_root)
    with pytest.raises(ContentError) as caught:
        load_bank(mini_root)
    assert len(caught.value.issues) >= 4
    assert str(caught.value).startswith(f"{len(caught.value.issues)} content errors")


def test_unknown_question_suggests_close_ids(mini_root: Path) -> None:
    bank = load_bank(mini_root)
    with pytest.raises(NotFoundError, match="did you mean dd-kv-cache"):
        bank.question("dd-kv-cahce")


def test_non_utf8_file_is_reported(mini_root: Path) -> None:
    (mini_root / "question_bank/bad.yaml").write_bytes(b"id: \xff\xfe\n")
    with pytest.raises(ContentError, match=r"question_bank/bad.yaml:1: \(file\): not UTF-8"):
        load_bank(mini_root)


def test_missing_directory_is_reported(mini_root: Path) -> None:
    shutil.rmtree(mini_root / "rubrics")
    with pytest.raises(ContentError) as caught:
        load_bank(mini_root)
    # the missing directory is the one problem: no question blames its absent rubric
    assert [str(i) for i in caught.value.issues] == ["rubrics/:0: (dir): directory is missing"]


def test_missing_directory_and_broken_file_are_both_reported(mini_root: Path) -> None:
    shutil.rmtree(mini_root / "rubrics")
    replace(Q, "difficulty: 3", "difficulty: [3")(mini_root)
    with pytest.raises(ContentError) as caught:
        load_bank(mini_root)
    found = {(i.path, i.field) for i in caught.value.issues}
    assert found == {("rubrics/", "(dir)"), (Q, "(yaml)")}


def test_every_missing_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ContentError) as caught:
        load_bank(tmp_path)
    assert [i.path for i in caught.value.issues] == [d + "/" for d in sorted(REQUIRED_DIRS)]


def test_three_content_dirs_are_enough(tmp_path: Path) -> None:
    """question_bank/, rubrics/ and kb/ make a whole root: plans default, labels are optional."""
    root = tmp_path / "content"
    for sub in REQUIRED_DIRS:
        shutil.copytree(PROJECT_ROOT / sub, root / sub)
    bank = load_bank(root)
    assert len(bank.questions) == len(load_bank(PROJECT_ROOT).questions)
    assert bank.labelled == {}
    shipped = {p.stem for p in (PROJECT_ROOT / PLANS_DIR).glob("*.yaml")}
    assert set(bank.plans) == shipped and "standard" in shipped
    assert (root / COVERAGE_FILE).is_file()  # and was not read as a question


def test_default_plans_keep_only_what_the_bank_can_fill(mini_root: Path) -> None:
    """mini_root has no C4 deep-dive question, which a round of genai-design asks for, and no
    behavioral question tagged 'project', which the last round of full-loop asks for."""
    bank = load_bank(mini_root)
    assert set(bank.plans) == {"standard", "quick"}


def test_a_roots_own_plan_with_an_empty_round_is_an_error(mini_root: Path) -> None:
    (mini_root / PLANS_DIR).mkdir()
    shutil.copy(PROJECT_ROOT / PLANS_DIR / "genai-design.yaml", mini_root / PLANS_DIR)
    with pytest.raises(ContentError) as caught:
        load_bank(mini_root)
    assert [str(i) for i in caught.value.issues] == [
        f"{PLANS_DIR}/genai-design.yaml:{line_of(GENAI, 'kind: coding')}: "
        "rounds[0].kind: no coding question tagged 'ml-coding' for this round",
        f"{PLANS_DIR}/genai-design.yaml:{line_of(GENAI, 'kind: system_design')}: "
        "rounds[1].kind: no system_design question for this round",  # its only one is classic
        f"{PLANS_DIR}/genai-design.yaml:{line_of(GENAI, 'kind: llm_deep_dive')}: "
        "rounds[2].kind: no llm_deep_dive question for this round",
    ]


def test_labelled_set_is_optional(mini_root: Path) -> None:
    shutil.rmtree(mini_root / LABELLED_DIR)
    bank = load_bank(mini_root)
    assert bank.labelled == {} and bank.summary()["labelled_answers"] == 0


def test_key_point_marks_are_read_and_stripped_in_one_place() -> None:
    body = (
        "KV caching stores keys.\n"
        "<!--key_points: kv-store ,  reuse-->\n"
        "Text <!-- key_points: reuse, , memory-bound --> goes on.\n"
        "<!-- a plain comment -->\n"
    )
    assert marked_ids(body) == ["kv-store", "reuse", "reuse", "memory-bound"]
    assert first_marks(body, 7) == {"kv-store": 8, "reuse": 8, "memory-bound": 9}
    stripped = strip_marks(body)
    assert "key_points" not in stripped and "Text  goes on." in stripped
    assert "<!-- a plain comment -->" in stripped  # only marks are removed


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {},
            {
                "coding-pair-sum-indices",
                "sd-url-shortener",
                "dd-kv-cache",
                "beh-production-incident",
            },
        ),
        ({"kind": "coding"}, {"coding-pair-sum-indices"}),
        ({"competency": "c6"}, {"sd-url-shortener", "dd-kv-cache"}),  # as a user types it
        ({"competency": "C6", "kind": "llm_deep_dive"}, {"dd-kv-cache"}),
        ({"tag": "caching"}, {"sd-url-shortener"}),
        ({"tag": "caching", "competency": "BH"}, set()),
        ({"competencies": {"C1", "BH"}}, {"coding-pair-sum-indices", "beh-production-incident"}),
        ({"kind": "coding", "competencies": {"BH"}}, set()),
        (
            {"exclude": {"dd-kv-cache", "sd-url-shortener"}},
            {"coding-pair-sum-indices", "beh-production-incident"},
        ),
        ({"tag": "no-such-tag"}, set()),
    ],
)
def test_one_selector_filters_questions(
    mini_root: Path, filters: dict[str, Any], expected: set[str]
) -> None:
    bank = load_bank(mini_root)
    assert {q.id for q in select_questions(bank.questions, **filters)} == expected


def test_red_flags_are_required_and_point_at_real_key_points(mini_root: Path) -> None:
    path = mini_root / Q
    text = path.read_text()
    head, flags = text.split("red_flags:\n", 1)
    lines = flags.splitlines(keepends=True)
    rest = "".join(lines[next((i for i, ln in enumerate(lines) if ln[:1].isalpha()), len(lines)) :])
    path.write_text(head + rest)  # the question without its red flags
    with pytest.raises(ContentError) as caught:
        load_bank(mini_root)
    assert any("3-6 red flags" in i.message for i in caught.value.issues), caught.value.issues
    path.write_text(text.replace("key_point: what-is-cached", "key_point: not-a-point", 1))
    with pytest.raises(ContentError) as caught:
        load_bank(mini_root)
    assert any("no key point 'not-a-point'" in i.message for i in caught.value.issues)
