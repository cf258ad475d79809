"""Two app instances behind real nginx, sharing PostgreSQL: one is killed (SIGKILL) while its
candidates are mid-answer; they reload through nginx, land on the other instance, press Resume
and submit, and every answer is in the store in full, graded. The deploy/ config is the one
`interview-bot proxy-config` writes."""

from __future__ import annotations

import asyncio
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.candidate import Answer, Candidate, Lost, is_question, submit, title_of
from bench.cluster_stack import Stack
from bot.config import PROJECT_ROOT
from bot.errors import ConfigError
from bot.store.database import open_engine
from bot.store.migrations import MIGRATIONS
from bot.web.proxy import ROUTE_COOKIE, site_config
from tests.postgres import postgres_database_url, postgres_url  # noqa: F401

CANDIDATES = 3
AUTH_HEADER = "X-Forwarded-User"  # an authenticating proxy's header: one user per candidate


def _parts(name: str) -> list[str]:
    return [
        f"Answer of {name}, part one: batching shares each weight read across many requests.",
        f"Answer of {name}, part two: the KV cache grows with layers, heads and sequence length.",
    ]


async def _say_first_part(c: Candidate) -> Answer:
    await c.open()
    since = len(c.messages)
    await c.press("start")
    title = title_of(await c.wait_for(is_question, since=since)) or ""
    answer = Answer(title, _parts(c.name))
    await c.say(answer.parts[0])
    answer.acked = 1
    return answer


async def _finish(c: Candidate, answer: Answer) -> None:
    """Type the rest and submit; after a lost connection, reload, resume and carry on."""
    for _ in range(3):
        try:
            while answer.acked < len(answer.parts):
                await c.say(answer.parts[answer.acked])
                answer.acked += 1
            await submit(c, answer)
            return
        except Lost:  # the instance went: reload the page, press Resume
            assert await c.reload_and_resume(answer) == answer.title
    raise AssertionError(f"{c.name} could not submit")


async def _run(stack: Stack) -> list[Candidate]:
    candidates = [
        Candidate(stack.url, f"cand-{n}", auth_header=AUTH_HEADER, reply_timeout=150)
        for n in range(CANDIDATES)
    ]
    try:
        answers = await asyncio.gather(*(_say_first_part(c) for c in candidates))
        routes = stack.routes()
        victim = routes[candidates[0].record.route]
        stack.kill(victim)
        on_victim = [c for c in candidates if routes[c.record.route] == victim]
        await asyncio.gather(*(_finish(c, a) for c, a in zip(candidates, answers, strict=True)))
        for c, answer in zip(candidates, answers, strict=True):
            c.record.answers.append(answer)
        after = stack.routes()
        assert all(after[c.record.route] != victim for c in on_victim)  # re-routed by nginx
        assert all(c.record.resumed == c.record.reconnects == 1 for c in on_victim)
        return candidates
    finally:
        for c in candidates:
            await c.close()


def test_a_killed_instances_candidates_resume_on_the_other(
    postgres_database_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.fail("nginx is not installed: apt-get install -y nginx", pytrace=False)
    env = {"INTERVIEW_BOT_AUTH_HEADER": AUTH_HEADER, "INTERVIEW_BOT_GRADER": "offline"}
    with Stack(tmp_path / "stack", database_url=postgres_database_url, env=env) as stack:
        candidates = asyncio.run(_run(stack))
    engine = sa.create_engine(postgres_database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT answer, status FROM attempts")).all()
    engine.dispose()
    assert len(rows) == CANDIDATES  # one attempt each: none lost, none graded twice
    for c in candidates:
        (answer,) = c.record.answers
        stored = [r for r in rows if r.answer == answer.text]
        assert len(stored) == 1 and stored[0].status == "graded", (c.name, rows)


def test_instances_starting_together_migrate_one_at_a_time(
    postgres_database_url: str,  # noqa: F811
) -> None:
    with ThreadPoolExecutor(4) as pool:
        engines = list(pool.map(open_engine, [postgres_database_url] * 4))
    with engines[0].connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM migrations")).scalars().all()
    for engine in engines:
        engine.dispose()
    assert sorted(names) == sorted(fn.__name__ for fn in MIGRATIONS)


def test_the_compose_nginx_config_is_the_generated_one() -> None:
    committed = (PROJECT_ROOT / "deploy" / "nginx" / "interview-bot.conf").read_text()
    assert committed == site_config(["app1:8000", "app2:8000"], listen="8080")
    compose = (PROJECT_ROOT / "deploy" / "compose.yaml").read_text()
    assert "./nginx/interview-bot.conf:/etc/nginx/conf.d/default.conf" in compose


def test_the_site_config() -> None:
    site = site_config(["10.0.0.5:8000", "10.0.0.6:8000", "10.0.0.7:8000"], listen="443")
    assert re.findall(r"server (\S+) max_fails=1", site) == [
        "10.0.0.5:8000",
        "10.0.0.6:8000",
        "10.0.0.7:8000",
    ]
    assert f"hash $cookie_{ROUTE_COOKIE}" not in site and "hash $ib_route consistent;" in site
    assert "proxy_next_upstream_tries 3;" in site and "listen 443;" in site
    with pytest.raises(ConfigError, match="host:port"):
        site_config(["10.0.0.5"])
    with pytest.raises(ConfigError, match="at least one"):
        site_config([])
