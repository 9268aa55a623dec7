"""A stand-in for an SMS gateway: a separate ASGI app speaking the JSON protocol of
:mod:`prakerja.notifications.providers.sms_http` (docs/operations.md, "SMS gateway protocol").

Run it with ``prakerja sim sms``. ``POST /v1/messages`` with ``Authorization: Bearer <token>`` and
``{"id", "to", "text"}`` is accepted once per ``id`` (a repeat answers ``200`` with the first reference and is not
delivered again); ``GET /_messages`` lists what was received (a development tool: it shows message texts, so it
listens on loopback only). Faults through ``POST /_faults`` with ``{"mode": "none" | "slow" | "down" | "flaky",
"delay_seconds": 3}``: ``down`` answers 503, ``flaky`` answers 503 to every other request, ``slow`` waits."""

from __future__ import annotations

import asyncio
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

MODES = ("none", "slow", "down", "flaky")
_PHONE = re.compile(r"^\+[1-9][0-9]{7,14}$")


@dataclass
class Gateway:
    token: str | None = None
    mode: str = "none"
    delay_seconds: float = 3.0
    calls: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[str, str] = field(default_factory=dict)


def create_app(gateway: Gateway | None = None) -> FastAPI:
    state = gateway or Gateway()
    app = FastAPI(title="SMS gateway simulator", docs_url=None, redoc_url=None)
    app.state.gateway = state

    @app.post("/v1/messages")
    async def accept(request: Request) -> JSONResponse:
        state.calls += 1
        if state.mode == "down" or (state.mode == "flaky" and state.calls % 2 == 1):
            return JSONResponse({"error": "service unavailable"}, status_code=503)
        if state.mode == "slow":
            await asyncio.sleep(state.delay_seconds)
        if state.token is not None:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {state.token}".encode()):
                return JSONResponse({"error": "unauthorised"}, status_code=401)
        try:
            body = await request.json()
            message_id, to, text = str(body["id"]), str(body["to"]), str(body["text"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "expected id, to and text"}, status_code=400)
        if not _PHONE.match(to) or not text or len(text) > 1600 or not 0 < len(message_id) <= 128:
            return JSONResponse({"error": "invalid message"}, status_code=422)
        if message_id in state.by_id:
            return JSONResponse({"id": message_id, "status": "accepted", "ref": state.by_id[message_id]})
        ref = f"gw-{len(state.received) + 1:06d}"
        state.by_id[message_id] = ref
        state.received.append({"id": message_id, "to": to, "text": text, "ref": ref})
        return JSONResponse({"id": message_id, "status": "accepted", "ref": ref}, status_code=201)

    @app.get("/_messages")
    async def messages() -> JSONResponse:
        return JSONResponse({"messages": state.received})

    @app.post("/_faults")
    async def set_faults(request: Request) -> JSONResponse:
        body = await request.json()
        mode = body.get("mode", "none")
        if mode not in MODES:
            return JSONResponse({"error": f"mode must be one of {', '.join(MODES)}"}, status_code=400)
        state.mode = mode
        state.delay_seconds = float(body.get("delay_seconds", state.delay_seconds))
        return JSONResponse({"mode": state.mode, "delay_seconds": state.delay_seconds})

    @app.get("/_health")
    async def health() -> JSONResponse:
        return JSONResponse({"received": len(state.received), "mode": state.mode, "calls": state.calls})

    return app


def serve(*, host: str, port: int, token: str | None, mode: str, delay_seconds: float) -> None:
    import uvicorn

    app = create_app(Gateway(token=token, mode=mode, delay_seconds=delay_seconds))
    uvicorn.run(app, host=host, port=port, log_level="warning")
