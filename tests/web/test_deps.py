"""Request helpers shared by every domain's routes."""

from __future__ import annotations

from starlette.requests import Request

from prakerja.web.deps import client_ip


def make_request(*, client: tuple[str, int] | None) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "client": client})


class TestClientIp:
    def test_the_peer_address_when_known(self) -> None:
        assert client_ip(make_request(client=("203.0.113.7", 51234))) == "203.0.113.7"

    def test_none_when_the_server_does_not_know_it(self) -> None:
        assert client_ip(make_request(client=None)) is None
