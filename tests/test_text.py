from __future__ import annotations

import threading

import snowballstemmer

from bot import text


def test_stems_are_right_when_many_threads_stem_at_once() -> None:
    """One snowball stemmer shared by threads mixes their words up; each thread needs its own.
    The words are fresh for every thread (no cache hit hides the race)."""
    reference, reference_lock = snowballstemmer.stemmer("english"), threading.Lock()
    errors: list[str] = []

    def work(n: int) -> None:
        for i in range(3000):
            word = f"{'generalization' if i % 2 else 'relational'}{n}x{i}ing"
            try:
                got = text.stem(word)
            except Exception as exc:  # an IndexError is the race showing itself
                errors.append(repr(exc))
                return
            with reference_lock:
                expected = reference.stemWord(word)
            if got != expected:
                errors.append(f"{word}: {got}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
