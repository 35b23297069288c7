"""Addresses from data may not move a call to a private host (RELIABILITY row 23).

A configured server (on 127.0.0.1) hands out hostile addresses — a paging link,
a next URL in its body, a redirect — and target servers on other loopback
addresses count the requests that reach them: a refusal says "destination not
allowed" and the target saw nothing. Hosts the connection names itself (its
base URL, its token URL) stay allowed although they are loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from atomnb.connectors.http import (
    DestinationNotAllowedError,
    EgressPolicy,
    HttpConnection,
    HttpOperation,
    OAuth2ClientCredentials,
    Paging,
)
from atomnb.documents import Documents
from tests.connectors.conftest import CLIENT_ID, CLIENT_SECRET, FakeTime, LiveServer, connection
from tests.connectors.hostile_servers import Counting, counting_server

WAIT = {"connect_timeout": 60.0, "read_timeout": 60.0}


@pytest.fixture
def configured() -> Iterator[Counting]:
    with counting_server("127.0.0.1") as server:
        yield server


@pytest.fixture
def target() -> Iterator[Counting]:
    with counting_server("127.0.0.2") as server:
        yield server


@pytest.fixture
def target_v6() -> Iterator[Counting]:
    with counting_server("::1") as server:
        yield server


def _conn(base: str, fake: FakeTime, **options: Any) -> HttpConnection:
    return connection(base, fake, **WAIT, **options)


def _hostile(kind: str, to: str) -> HttpOperation:
    paging = Paging("link") if kind == "link" else Paging("next_url")
    records = "data" if kind == "next" else None
    return HttpOperation("GET", f"/{kind}", query={"to": to}, paging=paging, records=records)


@pytest.mark.parametrize("kind", ["link", "next"])
def test_a_paging_address_to_another_loopback_host_is_refused(
    configured: Counting, target: Counting, fake_time: FakeTime, kind: str
) -> None:
    op = _hostile(kind, f"{target.url}/steal")
    with pytest.raises(DestinationNotAllowedError, match=r"destination not allowed: 127\.0\.0\.2"):
        op.call(_conn(configured.url, fake_time))
    assert configured.count == 1  # the first page, from the host the connection names
    assert target.count == 0  # nothing reached the address that came from data


def test_a_paging_link_to_ipv6_loopback_is_refused(
    configured: Counting, target_v6: Counting, fake_time: FakeTime
) -> None:
    with pytest.raises(DestinationNotAllowedError, match="destination not allowed"):
        _hostile("link", f"{target_v6.url}/steal").call(_conn(configured.url, fake_time))
    assert target_v6.count == 0


@pytest.mark.parametrize(
    "to", ["http://10.20.30.40/x", "http://192.168.7.7/x", "http://localhost:1/x"]
)
def test_a_paging_link_to_a_private_network_is_refused(
    configured: Counting, fake_time: FakeTime, to: str
) -> None:
    with pytest.raises(DestinationNotAllowedError, match="destination not allowed"):
        _hostile("link", to).call(_conn(configured.url, fake_time))
    assert configured.count == 1


def test_another_port_of_the_named_host_is_not_named(
    configured: Counting, fake_time: FakeTime
) -> None:
    # 127.0.0.1:<configured port> is named; 127.0.0.1:<any other port> came from data.
    with counting_server("127.0.0.1") as other:
        with pytest.raises(DestinationNotAllowedError, match="destination not allowed"):
            _hostile("link", f"{other.url}/x").call(_conn(configured.url, fake_time))
        assert other.count == 0


def test_a_redirect_to_a_private_host_is_refused(
    configured: Counting, target: Counting, fake_time: FakeTime
) -> None:
    op = HttpOperation("GET", "/redirect", query={"to": f"{target.url}/internal"})
    with pytest.raises(DestinationNotAllowedError, match=r"destination not allowed: 127\.0\.0\.2"):
        op.call(_conn(configured.url, fake_time))
    assert target.count == 0


def test_a_templated_url_field_is_refused_per_document(
    configured: Counting, target: Counting, fake_time: FakeTime
) -> None:
    port = target.url.rsplit(":", 1)[1]
    op = HttpOperation("GET", "http://{host}:{port}/orders")
    docs = Documents.from_records([{"host": "127.0.0.2", "port": port}])
    result = op.call(_conn(configured.url, fake_time), docs)
    assert len(result) == 0 and len(result.rejections) == 1
    assert "destination not allowed" in result.rejections[0].message
    assert target.count == 0


def test_the_configured_loopback_base_url_and_its_own_pages_work(
    configured: Counting, fake_time: FakeTime
) -> None:
    same_origin = f"{configured.url}/data?page=2"
    docs = _hostile("link", same_origin).call(_conn(configured.url, fake_time))
    assert len(docs) == 2 and configured.count == 2
    redirected = HttpOperation("GET", "/redirect", query={"to": quote("/data", safe="/")})
    assert len(redirected.call(_conn(configured.url, fake_time))) == 1


def test_a_connection_may_allow_private_addresses_from_data(
    configured: Counting, target: Counting, fake_time: FakeTime
) -> None:
    egress = EgressPolicy(allow_private_from_data=True)
    docs = _hostile("link", f"{target.url}/more").call(
        _conn(configured.url, fake_time, egress=egress)
    )
    assert len(docs) == 2 and target.count == 1


def test_metadata_from_data_is_refused_even_when_private_data_hosts_are_allowed(
    configured: Counting, fake_time: FakeTime
) -> None:
    egress = EgressPolicy(allow_private_from_data=True)
    with pytest.raises(DestinationNotAllowedError, match=r"169\.254\.169\.254"):
        _hostile("link", "http://169.254.169.254/latest").call(
            _conn(configured.url, fake_time, egress=egress)
        )


def test_the_named_token_url_on_another_loopback_host_is_allowed(
    server: LiveServer, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The data API is on 127.0.0.2 and the token endpoint on 127.0.0.1: both are named.
    monkeypatch.setenv("T_CLIENT_SECRET", CLIENT_SECRET)
    auth = OAuth2ClientCredentials(f"{server.url}/oauth/token", CLIENT_ID, "env:T_CLIENT_SECRET")
    with counting_server("127.0.0.2") as api:
        docs = HttpOperation("GET", "/data").call(_conn(api.url, fake_time, auth=auth))
        assert len(docs) == 1 and api.count == 1
        assert api.seen[0]["headers"]["authorization"].startswith("Bearer at-")


def test_the_egress_setting_round_trips_through_the_component_form(fake_time: FakeTime) -> None:
    conn = HttpConnection("http://127.0.0.1", egress=EgressPolicy(allow_private_from_data=True))
    again = HttpConnection.from_dict(conn.to_dict())
    assert again.egress.allow_private_from_data is True


def test_an_operations_literal_absolute_url_is_named(
    configured: Counting, target: Counting, fake_time: FakeTime
) -> None:
    op = HttpOperation("GET", f"{target.url}/data")  # configuration, not data
    assert len(op.call(_conn(configured.url, fake_time))) == 1
    assert target.count == 1
