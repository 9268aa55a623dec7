"""A stand-in for a training institution, written from ``shared/contracts/marketplace-api.md`` and
``partner-api.md`` alone: a separate ASGI app that imports nothing of the program and talks to it only over the
signed partner API.

Run it with ``prakerja sim institution``; submit a course from a JSON file with ``prakerja sim submit-course``.

- ``/`` (Bahasa Indonesia): the institution's admin page: redeem a voucher (``POST /vouchers/redeem``), see each
  participant's sessions and attendance, report a completion with a score (``POST /completions``).
- ``/hadir``: where a participant enters the redeem code the program gave them for a session (in real life on the
  institution's own site): ``POST /redeem-codes/status`` then ``POST /redeem-codes/commit``.
- JSON for tests and demos: ``POST /api/vouchers/redeem`` ``{"voucher_code"}``, ``POST /api/attendance``
  ``{"redeem_code"}``, ``POST /api/completions`` ``{"purchase_id", "score", "passed", "completed_at"?}``,
  ``POST /api/courses`` (the course as the contract describes it), ``GET /api/enrolments``.
- ``POST /webhooks/prakerja`` receives the program's webhooks (verified; ``GET /_events``); ``/_clock`` follows a
  program whose clock is frozen (``completed_at`` defaults to the simulator's now)."""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from prakerja.simulators.partner_client import Credentials, PartnerClient, PartnerError, SimClock, parse_time
from prakerja.simulators.webhook_receiver import Inbox, mount, mount_clock

MESSAGES: dict[str, str] = {
    "voucher_not_found": "Kode voucher tidak ditemukan.",
    "voucher_used": "Kode voucher ini sudah ditukarkan.",
    "voucher_other_institution": "Kode voucher ini untuk pelatihan lembaga lain.",
    "redeem_code_not_found": "Kode redeem tidak ditemukan.",
    "redeem_code_type_mismatch": "Kode redeem ini untuk jenis pelatihan lain (daring/luring).",
    "redeem_code_other_institution": "Kode redeem ini untuk sesi lembaga lain.",
    "redeem_code_cancelled": "Sesi untuk kode redeem ini dibatalkan.",
    "transaction_cancelled": "Pembelian pelatihan ini sudah dibatalkan.",
    "redeem_code_used": "Kode redeem ini sudah dipakai.",
    "redeem_code_outside_window": (
        "Kode redeem hanya bisa dipakai mulai 1 jam sebelum sampai 1 jam sesudah sesi dimulai."
    ),
    "completion_exists": "Penyelesaian pelatihan ini sudah dilaporkan.",
    "attendance_missing": "Ada sesi yang belum dihadiri (kode redeem belum dipakai).",
    "completion_too_early": "Pelatihan belum bisa dinyatakan selesai pada waktu ini.",
    "course_invalid": "Data pelatihan tidak lengkap atau tidak sah.",
    "partner_role_forbidden": "Lembaga ini tidak berwenang memanggil layanan tersebut.",
    "invalid_request": "Permintaan tidak lengkap.",
    "program_unreachable": "Layanan Kartu Prakerja sedang tidak dapat dihubungi. Coba beberapa saat lagi.",
}


def message_for(code: str, program_message: str = "") -> str:
    return MESSAGES.get(code) or program_message or f"Permintaan ditolak ({code})."


class DeskError(Exception):
    def __init__(self, status: int, code: str, message: str = "", details: Any = None) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.details = status, code, message or message_for(code), details


@dataclass
class Enrolment:
    """A participant who redeemed a voucher here."""

    purchase_id: str
    course_id: str
    voucher_code: str
    participant_name_masked: str
    sessions: list[dict[str, Any]]
    attended: dict[str, dict[str, Any]] = field(default_factory=dict)
    """session_id -> the commit answer (``redeem_code``, ``attended_at``)."""
    completion: dict[str, Any] | None = None

    def public(self) -> dict[str, Any]:
        return {
            "purchase_id": self.purchase_id,
            "course_id": self.course_id,
            "voucher_code": self.voucher_code,
            "participant_name_masked": self.participant_name_masked,
            "sessions": [
                {**s, "attended_at": self.attended.get(s["session_id"], {}).get("attended_at")} for s in self.sessions
            ],
            "completion": self.completion,
        }


@dataclass
class Desk:
    """The institution's state and its calls to the program; the pages and the JSON routes both use it."""

    client: PartnerClient
    name: str = "Lembaga Pelatihan (simulator)"
    enrolments: dict[str, Enrolment] = field(default_factory=dict)
    courses: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PartnerError as error:
            raise DeskError(error.status, error.code, message_for(error.code, error.message), error.details) from None
        except httpx.HTTPError:
            raise DeskError(503, "program_unreachable") from None

    def submit_course(self, course: dict[str, Any]) -> dict[str, Any]:
        answer = self._call(self.client.submit_course, course)
        self.courses[str(answer["course_id"])] = {**answer, "title": course.get("title")}
        return dict(answer)

    def redeem(self, voucher_code: str) -> Enrolment:
        voucher_code = voucher_code.strip()
        if not voucher_code:
            raise DeskError(422, "invalid_request")
        answer = self._call(self.client.redeem_voucher, voucher_code)
        enrolment = Enrolment(
            purchase_id=str(answer["purchase_id"]),
            course_id=str(answer["course_id"]),
            voucher_code=voucher_code,
            participant_name_masked=str(answer.get("participant_name_masked", "")),
            sessions=[
                {"session_id": str(s["session_id"]), "starts_at": s.get("starts_at")} for s in answer["sessions"]
            ],
        )
        with self._lock:
            self.enrolments[enrolment.purchase_id] = enrolment
        return enrolment

    def attend(self, redeem_code: str) -> dict[str, Any]:
        """The participant's code for a session: check it (``status``), then use it (``commit``)."""
        redeem_code = redeem_code.strip()
        if not redeem_code:
            raise DeskError(422, "invalid_request")
        status = self._call(self.client.redeem_code_status, redeem_code)
        if status.get("state") == "used":
            raise DeskError(409, "redeem_code_used")
        if status.get("state") == "cancelled":
            raise DeskError(409, "redeem_code_cancelled")
        committed = self._call(self.client.commit_redeem_code, redeem_code)
        session_id = str(committed.get("session_id", status.get("session_id")))
        with self._lock:
            for enrolment in self.enrolments.values():
                if any(s["session_id"] == session_id for s in enrolment.sessions):
                    enrolment.attended[session_id] = dict(committed)
        return {"status": status, "commit": committed}

    def complete(self, purchase_id: str, *, score: int, passed: bool, completed_at: datetime | None = None) -> Any:
        if not 0 <= score <= 100:
            raise DeskError(422, "invalid_request", "Nilai harus 0-100.")
        answer = self._call(
            self.client.report_completion,
            purchase_id=purchase_id,
            completed_at=completed_at or self.client.clock.now(),
            score=score,
            passed=passed,
        )
        enrolment = self.enrolments.get(purchase_id)
        if enrolment is not None:
            enrolment.completion = dict(answer)
        return answer


# --- pages --------------------------------------------------------------------------------------------------------

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "label{display:block;margin:.6rem 0 .2rem}input{font-size:1rem;padding:.3rem}button{font-size:1rem;"
    "margin-top:.6rem;padding:.3rem .9rem}.galat{background:#fde8e8;border-left:4px solid #c00;padding:.5rem}"
    ".ok{background:#e8f7e8;border-left:4px solid #070;padding:.5rem}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.2rem .5rem}"
)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def create_app(desk: Desk, inbox: Inbox) -> FastAPI:
    app = FastAPI(title="Training institution simulator", docs_url=None, redoc_url=None)
    app.state.desk, app.state.inbox = desk, inbox
    mount(app, inbox)
    mount_clock(app, desk.client.clock)

    def page(title: str, body: str, status: int = 200) -> HTMLResponse:
        text = (
            f'<!doctype html><html lang="id"><head><meta charset="utf-8"><title>{_e(title)} · {_e(desk.name)}'
            f"</title><style>{_STYLE}</style></head><body><header><a href='/'>{_e(desk.name)}</a> · "
            f"<a href='/hadir'>Presensi peserta</a></header><main><h1>{_e(title)}</h1>{body}</main></body></html>"
        )
        return HTMLResponse(text, status_code=status)

    def note(message: str | None, ok: bool = False) -> str:
        if not message:
            return ""
        return f'<p class="{"ok" if ok else "galat"}" role="{"status" if ok else "alert"}">{_e(message)}</p>'

    def attendance_of(enrolment: Enrolment, session_id: str) -> str:
        found = enrolment.attended.get(session_id)
        return f"hadir {_e(found.get('attended_at'))}" if found else "belum hadir"

    def admin(message: str | None = None, ok: bool = False, status: int = 200) -> HTMLResponse:
        rows = ""
        for enrolment in desk.enrolments.values():
            sessions = "".join(
                f"<li>{_e(s['starts_at'])}: {attendance_of(enrolment, s['session_id'])}</li>"
                for s in enrolment.sessions
            )
            if enrolment.completion:
                done = f"Selesai: {_e(enrolment.completion.get('status'))}"
            else:
                done = (
                    f'<form method="post" action="/peserta/{_e(enrolment.purchase_id)}/selesai">'
                    '<label>Nilai (0-100) <input name="nilai" type="number" min="0" max="100" required></label>'
                    '<label><input type="checkbox" name="lulus" value="1" checked> Lulus</label>'
                    "<button>Laporkan selesai</button></form>"
                )
            rows += (
                f"<tr><td>{_e(enrolment.participant_name_masked)}<br><small>{_e(enrolment.voucher_code)}</small></td>"
                f"<td><ul>{sessions}</ul></td><td>{done}</td></tr>"
            )
        table = (
            f"<table><tr><th>Peserta</th><th>Sesi</th><th>Penyelesaian</th></tr>{rows}</table>"
            if rows
            else "<p>Belum ada voucher yang ditukarkan.</p>"
        )
        body = (
            note(message, ok) + '<form method="post" action="/voucher"><label for="voucher">Kode voucher</label>'
            '<input id="voucher" name="kode_voucher" required><button>Tukarkan voucher</button></form>'
            f"<h2>Peserta</h2>{table}"
        )
        return page("Administrasi pelatihan", body, status)

    @app.get("/", response_class=HTMLResponse)
    def home() -> HTMLResponse:
        return admin()

    @app.post("/voucher", response_class=HTMLResponse)
    def redeem_form(kode_voucher: str = Form("")) -> Any:
        try:
            enrolment = desk.redeem(kode_voucher)
        except DeskError as error:
            return admin(error.message, status=error.status)
        return admin(f"Voucher ditukarkan untuk {enrolment.participant_name_masked}.", ok=True)

    @app.post("/peserta/{purchase_id}/selesai", response_class=HTMLResponse)
    def complete_form(purchase_id: str, nilai: int = Form(...), lulus: str = Form("")) -> Any:
        try:
            answer = desk.complete(purchase_id, score=nilai, passed=lulus == "1")
        except DeskError as error:
            return admin(error.message, status=error.status)
        return admin(f"Penyelesaian dilaporkan: {answer.get('status')}.", ok=True)

    def attendance_page(message: str | None = None, ok: bool = False, status: int = 200) -> HTMLResponse:
        body = (
            note(message, ok) + "<p>Masukkan kode redeem dari dasbor Prakerja Anda untuk sesi ini.</p>"
            '<form method="post" action="/hadir"><label for="kode">Kode redeem</label>'
            '<input id="kode" name="kode_redeem" autocomplete="off" required><button>Hadir</button></form>'
        )
        return page("Presensi peserta", body, status)

    @app.get("/hadir", response_class=HTMLResponse)
    def attendance() -> HTMLResponse:
        return attendance_page()

    @app.post("/hadir", response_class=HTMLResponse)
    def attend_form(kode_redeem: str = Form("")) -> Any:
        try:
            desk.attend(kode_redeem)
        except DeskError as error:
            return attendance_page(error.message, status=error.status)
        return attendance_page("Kehadiran tercatat. Selamat belajar!", ok=True)

    # --- JSON -------------------------------------------------------------------------------------------------

    def refused(error: DeskError) -> JSONResponse:
        return JSONResponse(
            {"code": error.code, "message": error.message, "details": error.details or {}}, status_code=error.status
        )

    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise DeskError(400, "invalid_request", "Badan permintaan harus objek JSON.")
        return body

    @app.post("/api/courses")
    async def api_course(request: Request) -> JSONResponse:
        try:
            body = await json_body(request)
            answer = await run_in_threadpool(desk.submit_course, body)
        except DeskError as error:
            return refused(error)
        return JSONResponse(answer, status_code=201)

    @app.post("/api/vouchers/redeem")
    async def api_redeem(request: Request) -> JSONResponse:
        try:
            body = await json_body(request)
            enrolment = await run_in_threadpool(desk.redeem, str(body.get("voucher_code", "")))
        except DeskError as error:
            return refused(error)
        return JSONResponse(enrolment.public())

    @app.post("/api/attendance")
    async def api_attend(request: Request) -> JSONResponse:
        try:
            body = await json_body(request)
            answer = await run_in_threadpool(desk.attend, str(body.get("redeem_code", "")))
        except DeskError as error:
            return refused(error)
        return JSONResponse(answer)

    @app.post("/api/completions")
    async def api_complete(request: Request) -> JSONResponse:
        try:
            body = await json_body(request)
            score, passed = body.get("score"), body.get("passed")
            if not isinstance(score, int) or isinstance(score, bool) or not isinstance(passed, bool):
                raise DeskError(400, "invalid_request", "score (0-100) dan passed (true/false) wajib diisi.")
            at = body.get("completed_at")
            try:
                completed_at = parse_time(at) if isinstance(at, str) else None
            except ValueError:
                raise DeskError(400, "invalid_request", "completed_at harus waktu RFC 3339.") from None
            answer = await run_in_threadpool(
                lambda: desk.complete(
                    str(body.get("purchase_id", "")), score=score, passed=passed, completed_at=completed_at
                )
            )
        except DeskError as error:
            return refused(error)
        return JSONResponse(answer, status_code=201)

    @app.get("/api/enrolments")
    def api_enrolments() -> JSONResponse:
        return JSONResponse({"enrolments": [e.public() for e in desk.enrolments.values()]})

    return app


def serve(
    *, host: str, port: int, api_url: str, client_code: str, key: str, webhook_secret: str | None, clock_offset: float
) -> None:
    import uvicorn

    clock = SimClock()
    clock.set(offset_seconds=clock_offset)
    desk = Desk(client=PartnerClient.connect(api_url, Credentials(client_code, key), clock))
    uvicorn.run(create_app(desk, Inbox(webhook_secret, clock)), host=host, port=port, log_level="warning")
