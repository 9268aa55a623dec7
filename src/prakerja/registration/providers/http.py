"""HTTP client for the civil registry: explicit timeouts, retries with backoff (tenacity), a circuit breaker.

Protocol (spoken by ``prakerja sim dukcapil`` too): ``POST {base}/v1/verify`` with JSON
``{nik, kk, full_name, mother_maiden_name, birth_date}`` and header ``X-Client-Id``; answer
``{"nik": <echo>, "result": <RegistryOutcome>}``. An answer whose echo differs, or whose result is unknown, is
treated as no answer (``bad_answer``), never as a verdict.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import httpx
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from prakerja.kit.clock import utcnow
from prakerja.registration.providers.base import IdentityQuery, RegistryOutcome, RegistryUnavailable

DEFAULT_TIMEOUT = httpx.Timeout(connect=2.0, read=5.0, write=5.0, pool=2.0)


class _Retryable(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class CircuitBreaker:
    """Open after ``threshold`` consecutive failed calls; while open, calls fail fast until ``reset_after`` has
    passed on the injected clock; then one trial call decides (half-open)."""

    def __init__(self, *, threshold: int = 5, reset_after: timedelta = timedelta(seconds=30)) -> None:
        self.threshold = threshold
        self.reset_after = reset_after
        self._failures = 0
        self._opened_at: datetime | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None and utcnow() - self._opened_at < self.reset_after

    def before_call(self) -> None:
        if self.is_open:
            raise RegistryUnavailable("circuit_open")

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.threshold:
                self._opened_at = utcnow()


class HttpCivilRegistry:
    def __init__(
        self,
        base_url: str,
        *,
        client_id: str = "prakerja",
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        attempts: int = 3,
        backoff_seconds: float = 0.2,
        breaker: CircuitBreaker | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.timeout = timeout
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.breaker = breaker or CircuitBreaker()
        self._client = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self._client.close()

    def _once(self, query: IdentityQuery) -> RegistryOutcome:
        try:
            response = self._client.post(
                f"{self.base_url}/v1/verify",
                json={
                    "nik": query.nik,
                    "kk": query.kk,
                    "full_name": query.full_name,
                    "mother_maiden_name": query.mother_maiden_name,
                    "birth_date": query.birth_date,
                },
                headers={"X-Client-Id": self.client_id},
            )
        except httpx.TimeoutException:
            raise _Retryable("timeout") from None
        except httpx.TransportError:
            raise _Retryable("unavailable") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise _Retryable("unavailable")
        if response.status_code != 200:
            raise RegistryUnavailable("bad_answer")
        try:
            body = response.json()
            echo, result = body["nik"], body["result"]
            outcome = RegistryOutcome(result)
        except (ValueError, KeyError, TypeError):
            raise _Retryable("bad_answer") from None
        if echo != query.nik:
            raise _Retryable("bad_answer")
        return outcome

    def verify(self, query: IdentityQuery) -> RegistryOutcome:
        self.breaker.before_call()
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff_seconds, max=5),
            retry=retry_if_exception_type(_Retryable),
            reraise=False,
        )
        try:
            outcome = retrying(self._once, query)
        except RetryError as error:
            self.breaker.failure()
            last = error.last_attempt.exception()
            raise RegistryUnavailable(last.code if isinstance(last, _Retryable) else "unavailable") from None
        except RegistryUnavailable:
            self.breaker.failure()
            raise
        self.breaker.success()
        return outcome
