"""The fake Ollama server itself: the real `ollama` client understands it, in process or not."""

from __future__ import annotations

import asyncio
import json
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import pytest

from tests.fakes.ollama import FakeOllama, Script, expected_stats

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = [{"role": "user", "content": "Summarise my week."}]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOllama) -> FakeOllama:
    server.script = Script(reply="A calm week.")
    server.clear_requests()
    return server


async def test_generate_streams_response_deltas_and_a_done_line(fake: FakeOllama) -> None:
    async with ollama.AsyncClient(host=fake.url) as client:
        parts = [
            part
            async for part in await client.generate(
                model="llama3.2:3b", prompt="Hi", system="Be brief.", stream=True
            )
        ]
        whole = await client.generate(model="llama3.2:3b", prompt="Hi", system="Be brief.")

    assert [p.response for p in parts] == ["A ", "calm ", "week.", ""]
    assert [p.done for p in parts] == [False, False, False, True]
    done = parts[-1]
    assert done.done_reason == "stop"
    stats = expected_stats(prompt_chars=len("Be brief.") + len("Hi"), eval_count=3)
    assert {key: getattr(done, key) for key in stats} == stats
    assert (whole.response, whole.done, whole.eval_count) == ("A calm week.", True, 3)


async def test_tags_version_and_errors_look_like_ollamas(fake: FakeOllama) -> None:
    async with ollama.AsyncClient(host=fake.url) as client:
        listed = await client.list()
        with pytest.raises(ollama.ResponseError) as missing:
            await client.generate(model="qwen3:8b", prompt="Hi")
    async with httpx.AsyncClient(base_url=fake.url) as http:
        version = (await http.get("/api/version")).json()
        root = (await http.get("/")).text

    assert [m.model for m in listed.models] == ["llama3.2:3b"]
    assert (missing.value.status_code, missing.value.error) == (
        404,
        'model "qwen3:8b" not found, try pulling it first',
    )
    assert (version, root) == ({"version": "0.12.6"}, "Ollama is running")


async def test_a_hang_ends_after_max_hang_seconds_with_an_error(fake: FakeOllama) -> None:
    fake.script = Script(hang=True, max_hang_seconds=0.1)

    async with ollama.AsyncClient(host=fake.url) as client:
        with pytest.raises(ollama.ResponseError) as failed:
            await client.chat(model="llama3.2:3b", messages=MESSAGES)

    assert (failed.value.status_code, failed.value.error) == (500, "fake Ollama: gave up hanging")


async def test_stopping_the_server_ends_a_hanging_request() -> None:
    fake = FakeOllama(Script(hang=True)).start()
    async with ollama.AsyncClient(host=fake.url) as client:
        request = asyncio.create_task(client.chat(model="llama3.2:3b", messages=MESSAGES))
        await asyncio.to_thread(fake.wait_for_requests, 1)
        await asyncio.to_thread(fake.stop)
        with pytest.raises(ollama.ResponseError) as failed:
            await request

    assert failed.value.status_code == 500


def test_the_fake_runs_as_a_process_scripted_by_a_file(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"reply": "From another process.", "token_delay": 0.001}))
    command = [sys.executable, "-m", "tests.fakes.ollama", "--port", "0", "--script", str(script)]
    with subprocess.Popen(  # noqa: S603 - this interpreter running the repository's module
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        assert process.stdout is not None
        try:
            ready, _, _ = select.select([process.stdout], [], [], 20)
            assert ready, "the fake Ollama process printed nothing"
            url = process.stdout.readline().split()[-1]

            with ollama.Client(host=url) as client:
                parts = [
                    part.message.content
                    for part in client.chat(
                        model="llama3.2:3b",
                        messages=MESSAGES,
                        stream=True,
                        options={"num_ctx": 1024},
                    )
                ]
            with httpx.Client(base_url=url) as http:
                recorded = http.get("/_fake/requests").json()
                changed = http.put("/_fake/script", json={"fail_times": 1})
                failing = http.post("/api/chat", json={"model": "llama3.2:3b"})
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)

    assert parts == ["From ", "another ", "process.", ""]
    assert recorded == [
        {
            "method": "POST",
            "path": "/api/chat",
            "body": {
                "model": "llama3.2:3b",
                "messages": MESSAGES,
                "tools": [],
                "stream": True,
                "options": {"num_ctx": 1024},
            },
        }
    ]
    assert changed.json()["fail_times"] == 1
    assert (failing.status_code, failing.json()) == (
        500,
        {"error": "llama runner process has terminated: exit status 2"},
    )
    # uvicorn shuts down cleanly, then re-raises the signal it caught.
    assert process.returncode == -signal.SIGTERM


def test_a_script_loads_from_inline_json_and_refuses_unknown_keys() -> None:
    script = Script.load('{"reply": "Hi", "models": ["a:1b", "b:2b"], "tokens": ["H", "i"]}')

    assert (script.reply, script.models, script.tokens) == ("Hi", ("a:1b", "b:2b"), ("H", "i"))
    with pytest.raises(ValueError, match="unknown fake Ollama script keys: \\['replys'\\]"):
        Script.from_dict({"replys": []})
