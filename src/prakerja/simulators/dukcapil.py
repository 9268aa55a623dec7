"""A stand-in for the civil registry (Dukcapil): a separate ASGI app answering from a synthetic population file.

Run it with ``prakerja sim dukcapil``. Faults are injectable at start-up or at run time through
``POST /_faults`` with ``{"mode": "none" | "slow" | "down" | "wrong", "delay_seconds": 3}``:
``slow`` waits before answering, ``down`` answers 503, ``wrong`` answers about another person with a random verdict.
The population is synthetic and generated deterministically (:func:`generate_population`); never real data.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from prakerja.config import get_settings

REGENCIES = ("3201", "3171", "3578", "5171", "7371", "1271", "3273", "3374")
"""Kemendagri regency codes the synthetic population lives in; district ``<regency>01`` exists in each."""

GIVEN = ("Siti", "Budi", "Dewi", "Agus", "Ni Made", "I Gede", "Ahmad", "Nur", "Rina", "Yohanes", "Ma'ruf", "Dédé")
FAMILY = ("Rahmawati", "Santoso", "Lestari", "Hidayat", "Saputra", "Wijaya", "Siregar", "Nasution", "Ayu-Lestari", "")
MOTHERS = ("Aminah", "Sri Wahyuni", "Kartini", "Ketut Sari", "Fatimah", "Maria", "Suminah")

OUTCOMES = (
    "matched",
    "name_mismatch",
    "mother_name_mismatch",
    "nik_kk_mismatch",
    "birth_date_mismatch",
    "not_found",
    "deceased",
)


def normalise_name(value: str) -> str:
    """Names compare without case, accents, punctuation differences or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", value)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.casefold().replace("-", " ").replace("'", "").split())


def person(index: int, seed: int = 2020) -> dict[str, Any]:
    """The ``index``-th synthetic person (deterministic)."""
    rng = random.Random(seed * 1_000_003 + index)
    regency = REGENCIES[index % len(REGENCIES)]
    female = rng.random() < 0.5
    birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 45))
    day = birth.day + (40 if female else 0)
    nik = f"{regency}01{day:02d}{birth.month:02d}{birth.year % 100:02d}{index % 9999 + 1:04d}"
    kk = f"{regency}01{(index // 3 + 1):010d}"
    family = rng.choice(FAMILY)
    name = rng.choice(GIVEN) + (f" {family}" if family else "")
    return {
        "nik": nik,
        "kk": kk,
        "full_name": name,
        "mother_maiden_name": rng.choice(MOTHERS),
        "birth_date": birth.isoformat(),
        "sex": "F" if female else "M",
        "regency": regency,
        "deceased": index % 97 == 96,
    }


def generate_population(path: Path, count: int, *, seed: int = 2020) -> Path:
    """Write ``count`` synthetic people as JSON lines (same file for the same arguments)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    with path.open("w", encoding="utf-8") as handle:
        for index in range(count):
            record = person(index, seed)
            if record["nik"] in seen:
                continue
            seen.add(record["nik"])
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def load_population(path: Path) -> dict[str, dict[str, Any]]:
    people: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                people[record["nik"]] = record
    return people


def verdict(record: dict[str, Any] | None, query: dict[str, Any]) -> str:
    if record is None:
        return "not_found"
    if record.get("deceased"):
        return "deceased"
    if record["kk"] != query.get("kk"):
        return "nik_kk_mismatch"
    if record["birth_date"] != query.get("birth_date"):
        return "birth_date_mismatch"
    if normalise_name(record["full_name"]) != normalise_name(str(query.get("full_name", ""))):
        return "name_mismatch"
    if normalise_name(record["mother_maiden_name"]) != normalise_name(str(query.get("mother_maiden_name", ""))):
        return "mother_name_mismatch"
    return "matched"


@dataclass
class Faults:
    mode: str = "none"
    delay_seconds: float = 3.0
    calls: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(7))


def create_app(population: dict[str, dict[str, Any]], faults: Faults | None = None) -> FastAPI:
    state = faults or Faults()
    app = FastAPI(title="Dukcapil simulator", docs_url=None, redoc_url=None)
    app.state.faults = state
    app.state.population = population

    @app.post("/v1/verify")
    async def verify(request: Request) -> JSONResponse:
        state.calls += 1
        if state.mode == "down":
            return JSONResponse({"error": "service unavailable"}, status_code=503)
        if state.mode == "slow":
            await asyncio.sleep(state.delay_seconds)
        try:
            query = await request.json()
            nik = str(query["nik"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "bad request"}, status_code=400)
        if state.mode == "wrong":
            other = state.rng.choice(list(population)) if population else "0" * 16
            return JSONResponse({"nik": other, "result": state.rng.choice(OUTCOMES)})
        return JSONResponse({"nik": nik, "result": verdict(population.get(nik), query)})

    @app.post("/_faults")
    async def set_faults(request: Request) -> JSONResponse:
        body = await request.json()
        mode = body.get("mode", "none")
        if mode not in {"none", "slow", "down", "wrong"}:
            return JSONResponse({"error": "mode must be none, slow, down or wrong"}, status_code=400)
        state.mode = mode
        state.delay_seconds = float(body.get("delay_seconds", state.delay_seconds))
        return JSONResponse({"mode": state.mode, "delay_seconds": state.delay_seconds})

    @app.get("/_health")
    async def health() -> JSONResponse:
        return JSONResponse({"people": len(population), "mode": state.mode, "calls": state.calls})

    return app


def serve(*, host: str, port: int, population_path: Path | None, people: int, mode: str, delay_seconds: float) -> None:
    import uvicorn

    if population_path is None or not population_path.exists():
        population_path = population_path or (get_settings().home / "dukcapil-population.jsonl")
        generate_population(population_path, people)
    app = create_app(load_population(population_path), Faults(mode=mode, delay_seconds=delay_seconds))
    uvicorn.run(app, host=host, port=port, log_level="warning")
