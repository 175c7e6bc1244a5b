"""A fake Ollama server on loopback that speaks the HTTP API the `ollama` client uses.

In a test process it runs uvicorn in a background thread:

    with FakeOllama(Script(reply="Hello there")) as fake:
        client = ollama.AsyncClient(host=fake.url)
        ...
        assert fake.generation_requests[0].num_ctx == 4096

As a process of its own (end-to-end tests run a real worker against it):

    python -m tests.fakes.ollama --port 0 --script '{"reply": "Hello", "token_delay": 0.01}'

prints `fake-ollama listening on http://127.0.0.1:PORT` once it accepts connections. The script
may also be a JSON file (`--script path.json`) or come from ENGLOG_FAKE_OLLAMA_SCRIPT. While it
runs, `PUT /_fake/script` replaces the script and `GET /_fake/requests` lists what it received
(`DELETE /_fake/requests` forgets them).

What it answers, like Ollama: `POST /api/chat` and `POST /api/generate` (NDJSON stream of deltas
and a final `done: true` line with the model's statistics, or one JSON object when
`"stream": false`), `GET /api/tags`, `GET /api/version`, `GET /api/ps`, `GET /`, and errors as
`{"error": "..."}` with their status (404 for a model it does not have). Like Ollama, it
honours the request's `options.stop` (the answer ends before the first stop string) and
`options.num_predict` (at most that many deltas, then `done_reason: "length"`); `replies`
scripts a different answer for each request in turn (a first answer, then the retry's).
tests/fakes/insight_answers.py holds the adversarial answers the insight tests script.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

SCRIPT_ENV = "ENGLOG_FAKE_OLLAMA_SCRIPT"
GARBAGE_LINE = b"{this is not json\n"
_TOKEN = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class Script:
    """How the fake behaves; every generation request (chat or generate) follows it."""

    models: tuple[str, ...] = ("llama3.2:3b",)
    reply: str = "Hello from the fake Ollama."
    # The deltas to stream; by default the reply split into words (with their spaces).
    tokens: tuple[str, ...] | None = None
    token_delay: float = 0.0  # seconds before each delta
    # The first `fail_times` generation requests answer `fail_status` (then it recovers).
    fail_times: int = 0
    fail_status: int = 500
    fail_message: str = "llama runner process has terminated: exit status 2"
    # Never answer (no headers) until the client disconnects or max_hang_seconds pass.
    hang: bool = False
    # Stream this many deltas, then stall like `hang`.
    hang_after_tokens: int | None = None
    # Stream this many deltas, then a line that is not JSON, then end the stream.
    garbage_after_tokens: int | None = None
    # Stream this many deltas, then an `{"error": ...}` line, as Ollama does when a runner dies.
    error_after_tokens: int | None = None
    error_message: str = "an error was encountered while running the model"
    # The answer when a request carries `format` (structured output), if set.
    structured_reply: str | None = None
    max_hang_seconds: float = 600.0
    version: str = "0.12.6"
    # Successive answers: the n-th generation request without `format` gets replies[n] (the
    # last one once they run out); None: `reply` every time.
    replies: tuple[str, ...] | None = None
    # The final line's done_reason when the answer ends on its own (Ollama: "stop").
    done_reason: str = "stop"

    def answer(self, index: int) -> str:
        if self.replies:
            return self.replies[min(index, len(self.replies) - 1)]
        return self.reply

    def deltas(self, content: str) -> list[str]:
        if self.tokens is not None and content == self.reply:
            return list(self.tokens)
        return _TOKEN.findall(content)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Script:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fake Ollama script keys: {sorted(unknown)}")
        values = dict(data)
        for key in ("models", "tokens", "replies"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    @classmethod
    def load(cls, source: str) -> Script:
        """A script from inline JSON or from the path of a JSON file."""
        text = source if source.lstrip().startswith("{") else Path(source).read_text()
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    body: dict[str, Any] | None = None
    received_at: float = field(default_factory=time.time)

    @property
    def model(self) -> str | None:
        model = self._get("model")
        return model if isinstance(model, str) else None

    @property
    def options(self) -> dict[str, Any]:
        options = self._get("options")
        return options if isinstance(options, dict) else {}

    @property
    def num_ctx(self) -> int | None:
        num_ctx = self.options.get("num_ctx")
        return num_ctx if isinstance(num_ctx, int) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self._get("messages")
        return messages if isinstance(messages, list) else []

    @property
    def format(self) -> Any:
        return self._get("format")

    @property
    def stream(self) -> bool:
        return bool(self._get("stream", True))

    def _get(self, key: str, default: Any = None) -> Any:
        return default if self.body is None else self.body.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "body": self.body}


def expected_stats(*, prompt_chars: int, eval_count: int) -> dict[str, int]:
    """The statistics the fake reports: made up, but fixed, so tests can assert exact values."""
    prompt_eval_count = max(1, prompt_chars // 4)
    load_duration = 12_000_000
    prompt_eval_duration = prompt_eval_count * 250_000
    eval_duration = eval_count * 20_000_000
    return {
        "total_duration": load_duration + prompt_eval_duration + eval_duration + 1_000_000,
        "load_duration": load_duration,
        "prompt_eval_count": prompt_eval_count,
        "prompt_eval_duration": prompt_eval_duration,
        "eval_count": eval_count,
        "eval_duration": eval_duration,
    }


def _limited(deltas: list[str], options: object, done_reason: str) -> tuple[list[str], str]:
    """The deltas as Ollama's options let them out: cut before the first `stop` string (the
    stop itself not sent), then at `num_predict` deltas (done_reason "length")."""
    options = options if isinstance(options, dict) else {}
    stops = [s for s in options.get("stop") or [] if isinstance(s, str) and s]
    if stops:
        text = "".join(deltas)
        cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
        if cut >= 0:
            kept, length = [], 0
            for delta in deltas:
                if length + len(delta) > cut:
                    if cut > length:
                        kept.append(delta[: cut - length])
                    break
                kept.append(delta)
                length += len(delta)
            deltas, done_reason = kept, "stop"
    limit = options.get("num_predict")
    if isinstance(limit, int) and 0 <= limit < len(deltas):
        return deltas[:limit], "length"
    return deltas, done_reason


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _full_name(model: str) -> str:
    return model if ":" in model else f"{model}:latest"


def _prompt_chars(path: str, body: Mapping[str, Any]) -> int:
    if path == "/api/chat":
        messages = body.get("messages") or []
        return sum(len(str(m.get("content") or "")) for m in messages if isinstance(m, dict))
    return len(str(body.get("system") or "")) + len(str(body.get("prompt") or ""))


class FakeOllama:
    """The fake server: `start()`/`stop()` (or `with`) in a thread, `serve()` in the main thread."""

    def __init__(
        self, script: Script | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._script = script or Script()
        self._failures_served = 0
        self._answers_served = 0
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Condition()
        self._stop_requested = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Like the real Ollama (Go sets TCP_NODELAY): without it each streamed answer on a
        # kept-alive connection waits ~40 ms for the client's delayed ACK. Accepted
        # connections inherit the option from the listening socket on Linux.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, port))
        # Listening at once: a client that connects before the server runs waits in the backlog.
        self._socket.listen(128)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self.app = Starlette(
            routes=[
                Route("/", self._root, methods=["GET", "HEAD"]),
                Route("/api/version", self._version, methods=["GET"]),
                Route("/api/tags", self._tags, methods=["GET"]),
                Route("/api/ps", self._ps, methods=["GET"]),
                Route("/api/chat", self._generation, methods=["POST"]),
                Route("/api/generate", self._generation, methods=["POST"]),
                Route("/_fake/script", self._control_script, methods=["GET", "PUT"]),
                Route("/_fake/requests", self._control_requests, methods=["GET", "DELETE"]),
            ]
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def script(self) -> Script:
        return self._script

    @script.setter
    def script(self, script: Script) -> None:
        """Replace the behaviour; the count of failures served starts again."""
        with self._lock:
            self._script = script
            self._failures_served = 0
            self._answers_served = 0

    def configure(self, **changes: Any) -> None:
        self.script = replace(Script(), **changes)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def generation_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path in ("/api/chat", "/api/generate")]

    def wait_for_requests(self, count: int = 1, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until `count` requests have arrived (from another thread or `to_thread`)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout):
                raise TimeoutError(f"the fake Ollama received {len(self._requests)} requests")
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # --- lifecycle -----------------------------------------------------------------------

    def _make_server(self) -> uvicorn.Server:
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        return self._server

    def start(self) -> FakeOllama:
        server = self._make_server()
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, name="fake-ollama", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the fake Ollama server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        # Hanging responses watch this flag, so shutting down never waits for them.
        self._stop_requested.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._socket.close()

    def serve(self) -> None:
        """Run in this (main) thread until SIGINT/SIGTERM."""
        self._make_server().run(sockets=[self._socket])
        self._socket.close()

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _stopping(self) -> bool:
        return self._stop_requested.is_set() or (
            self._server is not None and self._server.should_exit
        )

    async def _pause(self, seconds: float, client_gone: asyncio.Event) -> bool:
        """Wait `seconds`; True when the client went away or the server is stopping first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not client_gone.is_set() and not self._stopping():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(client_gone.wait(), min(remaining, 0.05))
        return True

    # --- endpoints -----------------------------------------------------------------------

    async def _root(self, request: Request) -> Response:
        return PlainTextResponse("Ollama is running")

    async def _version(self, request: Request) -> Response:
        self._record(request, None)
        return JSONResponse({"version": self.script.version})

    async def _tags(self, request: Request) -> Response:
        self._record(request, None)
        models = [
            {
                "name": _full_name(name),
                "model": _full_name(name),
                "modified_at": "2026-01-05T10:00:00.000000000Z",
                "size": 2_019_393_189,
                "digest": hashlib.sha256(name.encode()).hexdigest(),
                "details": {
                    "parent_model": "",
                    "format": "gguf",
                    "family": "llama",
                    "families": ["llama"],
                    "parameter_size": "3.2B",
                    "quantization_level": "Q4_K_M",
                },
            }
            for name in self.script.models
        ]
        return JSONResponse({"models": models})

    async def _ps(self, request: Request) -> Response:
        return JSONResponse({"models": []})

    async def _generation(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "invalid character in request body")
        if not isinstance(body, dict):
            return _error(400, "invalid request body")
        self._record(request, body)
        path = request.url.path
        script = self.script
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return _error(400, "model is required")
        if _full_name(model) not in {_full_name(m) for m in script.models}:
            return _error(404, f'model "{model}" not found, try pulling it first')
        with self._lock:
            failing = self._failures_served < script.fail_times
            if failing:
                self._failures_served += 1
        if failing:
            return _error(script.fail_status, script.fail_message)
        if script.hang:
            return _Hang(self, script.max_hang_seconds)
        wants_json = bool(body.get("format"))
        if wants_json and script.structured_reply is not None:
            content = script.structured_reply
        else:
            with self._lock:
                content = script.answer(self._answers_served)
                self._answers_served += 1
        deltas, done_reason = _limited(
            script.deltas(content), body.get("options"), script.done_reason
        )
        return _Answer(
            self,
            script,
            chat=path == "/api/chat",
            model=model,
            deltas=deltas,
            prompt_chars=_prompt_chars(path, body),
            stream=bool(body.get("stream", True)),
            done_reason=done_reason,
        )

    async def _control_script(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self.script = Script.from_dict(await request.json())
            except (ValueError, TypeError) as exc:
                return _error(400, str(exc))
        return JSONResponse(self.script.to_dict())

    async def _control_requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.clear_requests()
        return JSONResponse([r.to_dict() for r in self.requests])

    def _record(self, request: Request, body: dict[str, Any] | None) -> None:
        with self._lock:
            self._requests.append(RecordedRequest(request.method, request.url.path, body))
            self._lock.notify_all()


async def _watch_disconnect(receive: Receive, client_gone: asyncio.Event) -> None:
    # The request body has been read, so the next message is the client going away.
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            client_gone.set()
            return


class _Watched(Response):
    """A response that notices the client going away while it waits."""

    def __init__(self, fake: FakeOllama) -> None:
        super().__init__()
        self.fake = fake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client_gone = asyncio.Event()
        watcher = asyncio.create_task(_watch_disconnect(receive, client_gone))
        try:
            await self.respond(send, client_gone)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def respond(self, send: Send, client_gone: asyncio.Event) -> None:
        raise NotImplementedError


class _Hang(_Watched):
    def __init__(self, fake: FakeOllama, seconds: float) -> None:
        super().__init__(fake)
        self.seconds = seconds

    async def respond(self, send: Send, client_gone: asyncio.Event) -> None:
        if await self.fake._pause(self.seconds, client_gone) and client_gone.is_set():
            return
        await _send_whole(send, 500, {"error": "fake Ollama: gave up hanging"})


class _Answer(_Watched):
    def __init__(
        self,
        fake: FakeOllama,
        script: Script,
        *,
        chat: bool,
        model: str,
        deltas: Sequence[str],
        prompt_chars: int,
        stream: bool,
        done_reason: str = "stop",
    ) -> None:
        super().__init__(fake)
        self.done_reason = done_reason
        self.script = script
        self.chat = chat
        self.model = model
        self.deltas = list(deltas)
        self.prompt_chars = prompt_chars
        self.stream = stream

    def _part(self, text: str, *, done: bool) -> dict[str, Any]:
        part: dict[str, Any] = {"model": self.model, "created_at": _now()}
        if self.chat:
            part["message"] = {"role": "assistant", "content": text}
        else:
            part["response"] = text
        part["done"] = done
        if done:
            part["done_reason"] = self.done_reason
            part.update(expected_stats(prompt_chars=self.prompt_chars, eval_count=len(self.deltas)))
            if not self.chat:
                part["context"] = [128006, 9125, 128007]
        return part

    async def respond(self, send: Send, client_gone: asyncio.Event) -> None:
        script = self.script
        stall = script.hang_after_tokens
        garbage = script.garbage_after_tokens
        error = script.error_after_tokens
        if not self.stream:
            if stall is not None:
                await self.fake._pause(script.max_hang_seconds, client_gone)
            else:
                await self.fake._pause(script.token_delay * len(self.deltas), client_gone)
            if client_gone.is_set():
                return
            if stall is not None or self.fake._stopping():
                await _send_whole(send, 500, {"error": "fake Ollama: stopped answering"})
            elif garbage is not None:
                await _send_raw(send, 200, GARBAGE_LINE)
            elif error is not None:
                await _send_whole(send, 500, {"error": script.error_message})
            else:
                await _send_whole(send, 200, self._part("".join(self.deltas), done=True))
            return

        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/x-ndjson")],
            }
        )
        for index, delta in enumerate([*self.deltas, None]):
            if index == stall:
                await self.fake._pause(script.max_hang_seconds, client_gone)
                await _end(send, client_gone)
                return
            if index == garbage:
                await _send_chunk(send, GARBAGE_LINE, more=False)
                return
            if index == error:
                line = json.dumps({"error": script.error_message}).encode() + b"\n"
                await _send_chunk(send, line, more=False)
                return
            if delta is None:
                break
            if script.token_delay and await self.fake._pause(script.token_delay, client_gone):
                await _end(send, client_gone)
                return
            await _send_chunk(send, _ndjson(self._part(delta, done=False)), more=True)
        await _send_chunk(send, _ndjson(self._part("", done=True)), more=False)


async def _end(send: Send, client_gone: asyncio.Event) -> None:
    """End a stream early (no `done` line), unless nobody is listening any more."""
    if not client_gone.is_set():
        await _send_chunk(send, b"", more=False)


def _ndjson(part: Mapping[str, Any]) -> bytes:
    return json.dumps(part).encode() + b"\n"


async def _send_chunk(send: Send, body: bytes, *, more: bool) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": more})


async def _send_raw(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await _send_chunk(send, body, more=False)


async def _send_whole(send: Send, status: int, payload: Mapping[str, Any]) -> None:
    await _send_raw(send, status, json.dumps(payload).encode())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.ollama", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434, help="0 picks a free port")
    parser.add_argument(
        "--script",
        default=os.environ.get(SCRIPT_ENV),
        help=f"inline JSON or a JSON file (default: ${SCRIPT_ENV})",
    )
    args = parser.parse_args(argv)
    script = Script.load(args.script) if args.script else Script()
    fake = FakeOllama(script, host=args.host, port=args.port)
    # Printed before serving: connections wait in the listening socket's backlog meanwhile.
    print(f"fake-ollama listening on {fake.url}", flush=True)
    fake.serve()


if __name__ == "__main__":
    main(sys.argv[1:])
