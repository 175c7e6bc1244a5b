"""The floor for the subscriptions bench: a plain Starlette websocket endpoint, no GraphQL.

It speaks just enough graphql-transport-ws for the bench's clients (connection_init →
connection_ack, one `subscribe`), keeps every socket in a set, and on `POST /broadcast`
(body: {"key": …}) builds ONE frame shaped like insightEvents' `next` and writes it to every
socket, then answers.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.ws_clients import raise_open_files


def create() -> Starlette:
    raise_open_files()
    sockets: set[WebSocket] = set()

    async def live(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="graphql-transport-ws")
        try:
            init = await websocket.receive_json()
            if init.get("type") != "connection_init":
                await websocket.close(4400)
                return
            await websocket.send_text('{"type":"connection_ack"}')
            subscribe = await websocket.receive_json()
            if subscribe.get("type") != "subscribe":
                await websocket.close(4400)
                return
            sockets.add(websocket)
            while True:
                message = await websocket.receive_json()
                if message.get("type") == "ping":
                    await websocket.send_text('{"type":"pong"}')
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(websocket)

    async def broadcast(request: Request) -> JSONResponse:
        key = str((await request.json())["key"])
        insight = {"id": key, "status": "PENDING"}
        payload = {"data": {"insightEvents": {"cursor": "0", "insight": insight}}}
        frame = json.dumps({"id": "1", "type": "next", "payload": payload})
        sent = 0
        for websocket in list(sockets):
            try:
                await websocket.send_text(frame)
                sent += 1
            except (WebSocketDisconnect, RuntimeError, OSError):
                sockets.discard(websocket)
        return JSONResponse({"sent": sent})

    routes = [
        Route("/live", live),
        Route("/broadcast", broadcast, methods=["POST"]),
        WebSocketRoute("/graphql", endpoint),
    ]
    return Starlette(routes=routes)
