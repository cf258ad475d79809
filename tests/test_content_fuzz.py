"""Mutated copies of real content files: each one is accepted or refused with located issues.

Deterministic (seeded) mutations of shipped files: byte flips, truncation, repeated keys,
aliases that point at themselves, billion-laughs, nesting thousands deep, integers with
thousands of digits, values of the wrong type, bytes that are not UTF-8 and byte-order marks.
Every outcome must be "valid" or a ContentError with issues, in bounded time; anything else
(another exception, a hang) fails the test.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.content.bank import check_file
from bot.errors import ContentError

SEEDS = [
    "question_bank/coding/coding-pair-sum-indices.yaml",
    "question_bank/system_design/sd-url-shortener.yaml",
    "question_bank/llm_deep_dive/dd-kv-cache.yaml",
    "question_bank/behavioral/beh-production-incident.yaml",
    "rubrics/coding.yaml",
    "rubrics/system-design.yaml",
    "plans/standard.yaml",
    "bench/labelled/dd-kv-cache.yaml",
    "kb/reference/dd-kv-cache.md",
    "kb/reference/sd-url-shortener.md",
]
VARIANTS = 9  # mutations per (seed file, mutator)
PER_FILE_LIMIT_S = 2.0
HANG_GUARD_S = 5  # a file still running after this is a hang: interrupt it and fail

Mutator = Callable[[bytes, random.Random], bytes]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _top_keys(data: bytes) -> list[int]:
    """Indices of the lines that start a top-level `key:` (of the front matter in Markdown)."""
    keys = []
    for i, line in enumerate(_lines(data)):
        if i > 0 and line.rstrip() == b"---":
            break  # the end of a kb document's front matter: below is Markdown
        if line[:1].isalpha() and b":" in line:
            keys.append(i)
    return keys


def _insert_key(data: bytes, rng: random.Random, chunk: bytes) -> bytes:
    """`chunk` (one or more top-level lines) placed before a random top-level key."""
    lines = _lines(data)
    keys = _top_keys(data)
    at = rng.choice(keys) if keys else len(lines)
    return b"".join([*lines[:at], chunk, *lines[at:]])


def _replace_value(data: bytes, rng: random.Random, value: bytes) -> bytes:
    """A random top-level key's value (its first line) replaced by `value`."""
    lines = _lines(data)
    keys = _top_keys(data)
    if not keys:
        return data + b"\nfield: " + value + b"\n"
    i = rng.choice(keys)
    key = lines[i].split(b":", 1)[0]
    lines[i] = key + b": " + value + b"\n"
    return b"".join(lines)


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    raw = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        raw[rng.randrange(len(raw))] ^= rng.randint(1, 255)
    return bytes(raw)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def duplicate_key(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    i = rng.choice(_top_keys(data))
    return b"".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])


def self_alias(data: bytes, rng: random.Random) -> bytes:
    shapes = [b"&a [*a]", b"&a [*a, *a]", b"&a {x: *a, y: [*a, *a]}", b"&a [[*a, *a], *a]"]
    return _insert_key(data, rng, b"loop: " + rng.choice(shapes) + b"\n")


def billion_laughs(data: bytes, rng: random.Random) -> bytes:
    levels, width = rng.randint(6, 10), rng.randint(6, 10)
    chunk = [b'lol0: &l0 "lol"\n']
    for n in range(1, levels):
        refs = b", ".join([b"*l%d" % (n - 1)] * width)
        chunk.append(b"lol%d: &l%d [%s]\n" % (n, n, refs))
    return _insert_key(data, rng, b"".join(chunk))


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice([1000, 3000, 5000, 20000])
    style = rng.randrange(3)
    if style == 0:
        value = b"[" * depth + b"]" * depth
    elif style == 1:
        value = b"{a: " * depth + b"1" + b"}" * depth
    else:  # block sequences, one level per line
        value = b"\n" + b"".join(b" " * (n + 1) + b"-\n" for n in range(depth // 10))
    return _replace_value(data, rng, value)


def huge_int(data: bytes, rng: random.Random) -> bytes:
    digits = b"9" * rng.choice([4301, 5000, 50000])
    value = rng.choice([digits, b"-" + digits, b"!!int '" + digits + b"'", b"1_" + digits])
    return _replace_value(data, rng, value)


WRONG = [
    b"[]",
    b"{}",
    b"null",
    b"~",
    b"12",
    b"-1.5e999",
    b".nan",
    b"true",
    b"2026-01-01",
    b"2026-13-45",
    b"2026-02-30 25:61:61",
    b"!!binary aGVsbG8=",
    b"!!binary not*base64",
    b"!!set {a, b}",
    b"!!omap [a: 1, a: 2]",
    b"[1, [2, {3: 4}]]",
    b"{[1, 2]: x}",
    b"!!python/object/apply:os.system ['true']",
    b"!!python/name:os.system",
    b"!custom value",
    b"0x" + b"f" * 3000,
    b"1:2:3:4:5",
    b"'" + b"x" * 20000 + b"'",
]


def wrong_type(data: bytes, rng: random.Random) -> bytes:
    return _replace_value(data, rng, rng.choice(WRONG))


def not_utf8(data: bytes, rng: random.Random) -> bytes:
    bad = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"])
    at = rng.randrange(len(data))
    return data[:at] + bad + data[at:]


def byte_order_mark(data: bytes, rng: random.Random) -> bytes:
    bom = rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf\xef\xbb\xbf"])
    if rng.random() < 0.7:
        return bom + data
    at = rng.randrange(len(data))
    return data[:at] + bom + data[at:]


def control_chars(data: bytes, rng: random.Random) -> bytes:
    junk = rng.choice([b"\x00", b"\x07", b"\x1b[31m", b"\t", b"\xc2\x85", b"\xe2\x80\xa8"])
    at = rng.randrange(len(data))
    return data[:at] + junk + data[at:]


def oversized(data: bytes, rng: random.Random) -> bytes:
    filler = b"# " + b"x" * 1000 + b"\n"
    return data + filler * rng.choice([600, 2000, 8000])


MUTATORS: list[Mutator] = [
    flip_bytes,
    truncate,
    duplicate_key,
    self_alias,
    billion_laughs,
    deep_nesting,
    huge_int,
    wrong_type,
    not_utf8,
    byte_order_mark,
    control_chars,
    oversized,
]


# Mutations no content file may survive, whatever the seed.
ALWAYS_REFUSED = {"self_alias", "billion_laughs", "deep_nesting", "huge_int", "not_utf8"}
ALWAYS_REFUSED |= {"oversized"}


def _cases() -> Iterator[tuple[str, str, int]]:
    for rel in SEEDS:
        for mutator in MUTATORS:
            for variant in range(VARIANTS):
                yield rel, mutator.__name__, variant


class Hang(Exception):
    pass


@contextmanager
def _hang_guard(seconds: int) -> Iterator[None]:
    def interrupt(_signum: int, _frame: object) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _outcome(root: Path, file: Path) -> str:
    try:
        with _hang_guard(HANG_GUARD_S):
            check_file(root, file)
    except ContentError as error:
        assert error.issues, "a ContentError without issues"
        return "refused"
    return "valid"


def test_every_mutated_file_is_valid_or_refused_in_bounded_time(tmp_path: Path) -> None:
    by_name = {m.__name__: m for m in MUTATORS}
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    slowest = 0.0
    began = time.perf_counter()
    for n, (rel, name, variant) in enumerate(_cases()):
        rng = random.Random(f"{rel}/{name}/{variant}")
        mutated = by_name[name]((PROJECT_ROOT / rel).read_bytes(), rng)
        file = tmp_path / f"case{n}" / rel
        file.parent.mkdir(parents=True)
        file.write_bytes(mutated)
        start = time.perf_counter()
        try:
            outcome = _outcome(tmp_path / f"case{n}", file)
            outcomes[outcome] += 1
            if name in ALWAYS_REFUSED and outcome != "refused":
                failures.append(f"{rel} {name} #{variant}: accepted")
        except BaseException as error:  # noqa: BLE001 - any other outcome is the finding
            failures.append(f"{rel} {name} #{variant}: {type(error).__name__}: {error!s:.200}")
        spent = time.perf_counter() - start
        slowest = max(slowest, spent)
        if spent > PER_FILE_LIMIT_S:
            failures.append(f"{rel} {name} #{variant}: took {spent:.2f} s")
    print(
        f"\nfuzz: {n + 1} files, {dict(outcomes)}, {len(failures)} failures, "
        f"slowest {slowest:.3f} s, all {time.perf_counter() - began:.1f} s"
    )
    assert not failures, "\n".join(failures[:40])
    assert n + 1 >= 1000 and time.perf_counter() - began < 60
    assert outcomes["refused"] > outcomes["valid"] > 0  # the mutations do break files


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: x\nloop: &a [*a]\n", "anchor"),
        ("id: x\nlol: &l [1]\nmore: [*l, *l]\n", "anchor"),
        ("id: x\nmore: *nowhere\n", "alias"),
        ("id: x\ndeep: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than"),
        ("id: x\nbig: " + "9" * 5000 + "\n", "digits"),
        ("id: x\nwhen: 2026-13-45\n", "month must be in 1..12"),
    ],
)
def test_refused_shapes_name_their_line(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "rubrics" / "x.yaml"
    file.parent.mkdir()
    file.write_text(text, encoding="utf-8")
    with _hang_guard(HANG_GUARD_S), pytest.raises(ContentError) as caught:
        check_file(tmp_path, file)
    issue = caught.value.issues[0]
    assert message in issue.message
    assert issue.line == 2
    assert issue.path == "rubrics/x.yaml"


def test_validate_reports_an_alias_bomb_as_one_located_error(
    mini_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    rubric = mini_root / "rubrics" / "coding.yaml"
    lines = rubric.read_text().splitlines(keepends=True)
    rubric.write_text("".join([*lines[:3], "loop: &a [*a, *a]\n", *lines[3:]]))
    with _hang_guard(HANG_GUARD_S):
        code = main(["validate", "--root", str(mini_root)])
    out = capsys.readouterr().out
    assert code == 1
    assert out == (
        "rubrics/coding.yaml:4: (yaml): anchor &a: content files do not use anchors or "
        "aliases; write the value out\n"
    )
