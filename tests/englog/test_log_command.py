"""`englog login` and `englog log` against a real server: the token kept readable by its
owner only, an entry logged by a real subprocess, and the API's errors printed, coded."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from englog import log_command
from tests.factories import Api
from tests.graph.access_tokens.support import create_token
from tests.live import Server, live_server

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
async def server(database_url: str, redis_url: str) -> AsyncIterator[Server]:
    async with live_server(database_url, redis_url) as running:
        yield running


async def englog(config_home: Path, *args: str) -> tuple[int, str, str]:
    """Runs `englog …` as a real process with its own config folder: exit code, out, err."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home)}
    env.pop("ENGLOG_TOKEN", None)
    env.pop("ENGLOG_SERVER", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "englog.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_login_keeps_the_token_readable_by_its_owner_only_and_log_logs_an_entry(
    server: Server, tmp_path: Path, pg: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        api = Api(client)
        account = await api.sign_up()
        await api.create_project(account, "Payments")
        token = (await create_token(api, account, "terminal"))["token"]

    code, out, err = await englog(tmp_path, "login", "--server", server.http_url, "--token", token)
    assert (code, err) == (0, "")
    config = tmp_path / "englog" / "config.json"
    assert f"as {account.email}" in out
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert json.loads(config.read_text()) == {"server": server.http_url, "token": token}

    code, out, err = await englog(
        tmp_path,
        "log",
        "Reviewed the payments PR",
        "--type",
        "review",
        "--minutes",
        "30",
        "--project",
        "payments",
        "--tag",
        "review",
    )
    assert (code, err) == (0, "")
    row = await pg.fetchrow(
        "SELECT e.id, e.title, e.type, e.duration_minutes, p.name AS project "
        "FROM log_entry e JOIN project p ON p.id = e.project_id"
    )
    assert row is not None
    assert (row["title"], row["type"], row["duration_minutes"], row["project"]) == (
        "Reviewed the payments PR",
        "REVIEW",
        30,
        "Payments",
    )
    tags = await pg.fetch("SELECT t.name FROM log_entry_tag et JOIN tag t ON t.id = et.tag_id")
    assert [tag["name"] for tag in tags] == ["review"]
    assert out == f"{row['id']}  REVIEW · 30 min · Payments · #review · Reviewed the payments PR\n"


async def test_log_names_an_unknown_project_and_writes_nothing(
    server: Server, tmp_path: Path, pg: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        api = Api(client)
        account = await api.sign_up()
        await api.create_project(account, "Payments")
        token = (await create_token(api, account))["token"]
    args = ("--server", server.http_url, "--token", token)
    code, out, err = await englog(tmp_path, "log", "Fixed it", "--project", "Nope", *args)
    assert (code, out) == (1, "")
    assert err == "englog log: no project named 'Nope' (your projects: Payments)\n"
    assert await pg.fetchval("SELECT count(*) FROM log_entry") == 0


async def test_log_prints_a_refusal_with_its_code_and_fields_and_exits_1(
    server: Server,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        api = Api(client)
        account = await api.sign_up()
        read_only = (await create_token(api, account, scopes=["READ"]))["token"]
        writer = (await create_token(api, account, "w"))["token"]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    base = ["log", "--server", server.http_url]

    def run(*args: str) -> tuple[int, str]:
        code = log_command_main([*base, *args])
        return code, capsys.readouterr().err

    assert await asyncio.to_thread(run, "T" * 201, "--token", writer) == (
        1,
        "englog log: BAD_USER_INPUT: Invalid input: title: must be at most 200 characters\n"
        "  title: must be at most 200 characters\n",
    )
    code, err = await asyncio.to_thread(run, "Fixed it", "--token", read_only)
    assert (code, err.split(":")[:2]) == (1, ["englog log", " FORBIDDEN"])
    code, err = await asyncio.to_thread(run, "Fixed it", "--token", "englog_pat_nope")
    assert (code, err) == (1, "englog log: UNAUTHENTICATED: Invalid token\n")


def log_command_main(argv: list[str]) -> int:
    """The command in this process (not through englog.cli's main, which sets up logging)."""
    parser = argparse.ArgumentParser(prog="englog")
    log_command.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.run(args))


def test_log_without_a_login_says_how_to_log_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("ENGLOG_TOKEN", raising=False)
    monkeypatch.delenv("ENGLOG_SERVER", raising=False)
    assert log_command_main(["log", "Fixed it"]) == 1
    assert "englog login --server URL --token TOKEN" in capsys.readouterr().err


def test_the_config_is_rewritten_owner_only_even_over_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "englog" / "config.json"
    path.parent.mkdir(mode=0o755)
    path.write_text("{}")
    path.chmod(0o644)
    log_command.write_config({"server": "http://x", "token": "englog_pat_t"}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert log_command.read_config(path) == {"server": "http://x", "token": "englog_pat_t"}


@pytest.mark.parametrize(
    ("server", "url"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/graphql"),
        ("https://englog.example.com/", "https://englog.example.com/graphql"),
        ("https://englog.example.com/graphql", "https://englog.example.com/graphql"),
    ],
)
def test_the_server_url_is_the_graphql_endpoint(server: str, url: str) -> None:
    assert log_command.endpoint(server) == url


def test_a_server_that_is_not_http_is_refused() -> None:
    with pytest.raises(log_command.CommandError, match="not an http"):
        log_command.endpoint("file:///etc/passwd")
