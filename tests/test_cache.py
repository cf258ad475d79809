"""Derived data kept on disk between processes: built once, rebuilt on any change, never trusted
when damaged; the bank, the grader's topic matrix and copy index, and the index's sync stamp."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.config import Settings, get_settings
from bot.content import cache, load_bank
from bot.content.bank import load_bank_cached
from bot.grading.offline import OfflineGrader
from bot.knowledge.kb import KnowledgeBase


def test_a_value_is_built_once_then_read_back(tmp_path: Path) -> None:
    store, built = cache.DiskCache(tmp_path / "cache"), []

    def build() -> dict[str, int]:
        built.append(1)
        return {"n": len(built)}

    assert store.get("thing", "k1", build) == {"n": 1}
    assert store.get("thing", "k1", build) == {"n": 1} and len(built) == 1
    [path] = (tmp_path / "cache").glob("thing-*.pkl")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    assert store.get("thing", "k2", build) == {"n": 2}  # a new key builds again ...
    assert [p.name for p in (tmp_path / "cache").glob("thing-*.pkl")] == [
        "thing-k2.pkl"
    ]  # ... once


def test_a_damaged_file_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    store = cache.DiskCache(tmp_path)
    store.get("thing", "k", lambda: [1, 2, 3])
    (tmp_path / "thing-k.pkl").write_bytes(b"\x80\x05not a pickle")
    assert store.get("thing", "k", lambda: [4]) == [4]


def test_an_unwritable_cache_still_returns_the_value(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert cache.DiskCache(blocked / "cache").get("x", "k", lambda: 7) == 7


def test_the_bank_is_cached_by_its_content(mini_root: Path) -> None:
    first = load_bank_cached(mini_root)
    again = load_bank_cached(mini_root)
    assert first.fingerprint == again.fingerprint and first.fingerprint
    assert again.questions == first.questions
    assert list((get_settings().data_dir / "cache").glob("bank-*.pkl"))
    path = mini_root / "question_bank/llm_deep_dive/dd-kv-cache.yaml"
    path.write_text(path.read_text().replace("title: The KV cache", "title: The key-value cache"))
    edited = load_bank_cached(mini_root)
    assert edited.fingerprint != first.fingerprint
    assert edited.question("dd-kv-cache").title.startswith("The key-value cache")


def test_the_graders_derived_data_is_the_same_from_disk(mini_root: Path) -> None:
    bank = load_bank_cached(mini_root)
    fresh = OfflineGrader(bank=load_bank(mini_root))  # no fingerprint: nothing on disk
    cold, warm = OfflineGrader(bank=bank), OfflineGrader(bank=bank)
    ids, topics = cold._topic_matrix()
    assert list((get_settings().data_dir / "cache").glob("topics-*.pkl"))
    ids2, topics2 = warm._topic_matrix()  # read back from disk by a new grader
    ids3, topics3 = fresh._topic_matrix()
    assert ids == ids2 == ids3 and (topics == topics2).all() and abs(topics - topics3).max() < 1e-6
    q = bank.question("dd-kv-cache")
    answer = "Keys and values of earlier tokens are kept so each step only computes the new one."
    a = cold.grade(q, bank.rubric(q.rubric), answer)
    b = warm.grade(q, bank.rubric(q.rubric), answer)
    assert a.score == b.score and a.key_points == b.key_points


def test_an_unchanged_kb_is_not_even_opened(tmp_path: Path, mini_root: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    bank = load_bank_cached(mini_root)
    with KnowledgeBase(settings) as kb:
        first = kb.sync(bank)
        assert not first.skipped and first.added > 10
    with KnowledgeBase(settings) as kb:
        assert kb.sync(bank).skipped and kb._client is None  # the index was not opened
    doc = mini_root / "kb/reference/dd-kv-cache.md"
    doc.write_text(doc.read_text().replace("## How servers manage it", "## How servers cope"))
    with KnowledgeBase(settings) as kb:
        changed = kb.sync(load_bank_cached(mini_root))
        assert not changed.skipped and changed.updated == 1
