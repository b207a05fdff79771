"""``GET /metrics``: Prometheus's text format, ``meet_*`` families, counts that move with traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import Api, running_api
from tests.api.conftest import test_settings as settings_for
from tests.support.livekit_server import LiveKitServer
from tests.support.livekit_webhooks import signed_delivery
from tests.support.services import free_port

TOKEN = "metrics-token-" + "m" * 24


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(api: Api, token: str | None = None) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await api.request("GET", "/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


def value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_by_route_template_method_and_status(api: Api) -> None:
    before = await scrape(api)
    for slug in ("one", "two", "three"):
        assert (await api.request("GET", f"/api/v1/rooms/{slug}")).status_code == 200
    assert (await api.request("GET", "/no/such/path")).status_code == 404
    after = await scrape(api)

    route = {"route": "/api/v1/rooms/{id_or_slug}", "method": "GET"}
    assert (
        value(after, "meet_http_requests_total", **route, status="200")
        - value(before, "meet_http_requests_total", **route, status="200")
        == 3
    )
    assert (
        value(after, "meet_http_request_duration_seconds_count", **route)
        == value(before, "meet_http_request_duration_seconds_count", **route) + 3
    )
    # No label value per unknown path: a scanner cannot grow the series.
    assert value(after, "meet_http_requests_total", route="unmatched", method="GET", status="404") >= 1
    assert not any("/no/such/path" in str(labels) for _, labels in after)


async def test_every_family_is_exposed_with_the_meet_prefix(api: Api) -> None:
    response = await api.request("GET", "/metrics")
    families = {family.name for family in text_string_to_metric_families(response.text)}
    assert {
        "meet_http_requests",
        "meet_http_request_duration_seconds",
        "meet_lobby_knocks",
        "meet_lobby_decisions",
        "meet_lobby_waiting_participants",
        "meet_lobby_event_streams",
        "meet_sfu_calls",
        "meet_sfu_call_duration_seconds",
        "meet_webhook_events",
        "meet_backing_service_errors",
    } <= families
    assert all(name.startswith("meet_") for name in families)


async def test_the_token_protects_the_metrics(tmp_path: Path) -> None:
    async with running_api(settings_for(tmp_path, metrics_token=TOKEN)) as api:
        assert (await api.request("GET", "/metrics")).status_code == 401
        wrong = await api.request("GET", "/metrics", headers={"Authorization": "Bearer " + "x" * len(TOKEN)})
        assert wrong.status_code == 401
        assert (
            value(await scrape(api, TOKEN), "meet_http_requests_total", route="/metrics", method="GET", status="401")
            == 2
        )


async def test_production_without_a_token_exposes_no_metrics(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        profile="production",
        secret_key="s" * 40,
        livekit_api_key="key",
        livekit_api_secret="l" * 40,
        dev_login="false",
    )
    async with running_api(settings) as api:
        response = await api.request("GET", "/metrics")
        assert response.status_code == 404
        assert "MEET_METRICS_TOKEN" in response.json()["detail"]


async def test_every_response_carries_a_request_id(api: Api) -> None:
    kept = await api.request("GET", "/healthz", headers={"X-Request-ID": "trace-42.a:b"})
    assert kept.headers["x-request-id"] == "trace-42.a:b"
    fresh = await api.request("GET", "/healthz", headers={"X-Request-ID": 'bad id"\n'[:7]})
    assert fresh.headers["x-request-id"] != 'bad id"'
    assert len(fresh.headers["x-request-id"]) == 32
    missing = await api.request("GET", "/no/such/path")
    assert len(missing.headers["x-request-id"]) == 32


async def test_lobby_knocks_and_decisions_are_counted(api: Api) -> None:
    await api.sign_in("owner")
    room = await api.create_room("owner", "Board", access_level="restricted")
    before = await scrape(api)
    knocked = []
    for name in ("Ann", "Bob"):
        response = await api.request("POST", f"/api/v1/rooms/{room['slug']}/request-entry", json={"username": name})
        assert response.status_code == 200, response.text
        knocked.append(response.json()["id"])
    decisions = f"/api/v1/rooms/{room['id']}/waiting-participants"
    assert (
        await api.request("POST", f"{decisions}/{knocked[0]}", user="owner", json={"allow": True})
    ).status_code == 200
    assert (
        await api.request("POST", f"{decisions}/{knocked[1]}", user="owner", json={"allow": False})
    ).status_code == 200
    contrary = await api.request("POST", f"{decisions}/{knocked[1]}", user="owner", json={"allow": True})
    assert contrary.status_code == 409
    after = await scrape(api)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("meet_lobby_knocks_total", kind="new") == 2
    assert moved("meet_lobby_decisions_total", outcome="accepted") == 1
    assert moved("meet_lobby_decisions_total", outcome="denied") == 1
    assert moved("meet_lobby_decisions_total", outcome="already_decided") == 1


async def test_sfu_calls_are_counted_by_operation_and_outcome(api_with: Any, livekit: LiveKitServer) -> None:
    async with api_with(livekit_url=livekit.url) as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board")
        path = f"/api/v1/rooms/{room['id']}/participants"
        assert (await api.request("GET", path, user="owner")).status_code == 200
        livekit.fail_next("ListParticipants", code="internal")
        assert (await api.request("GET", path, user="owner")).status_code == 502
        scraped = await scrape(api)
    call = {"sfu": "livekit", "operation": "ListParticipants"}
    assert value(scraped, "meet_sfu_calls_total", **call, outcome="ok") == 1
    assert value(scraped, "meet_sfu_calls_total", **call, outcome="refused") == 1
    assert value(scraped, "meet_sfu_call_duration_seconds_count", **call) == 2


async def test_an_unreachable_sfu_is_a_backing_service_error(api_with: Any) -> None:
    async with api_with(livekit_url=f"ws://127.0.0.1:{free_port()}") as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board")
        response = await api.request("GET", f"/api/v1/rooms/{room['id']}/participants", user="owner")
        assert response.status_code == 503
        scraped = await scrape(api)
    assert value(scraped, "meet_backing_service_errors_total", service="sfu") == 1
    assert (
        value(scraped, "meet_sfu_calls_total", sfu="livekit", operation="ListParticipants", outcome="unavailable") == 1
    )


async def test_webhook_events_are_counted_by_type_and_outcome(api: Api) -> None:
    body, headers = signed_delivery({"event": "room_finished", "room": {"name": "no-such-room"}})
    assert (await api.request("POST", "/api/v1/webhooks/livekit", content=body, headers=headers)).status_code == 200
    assert (await api.request("POST", "/api/v1/webhooks/livekit", content=body, headers=headers)).status_code == 200
    forged = {**headers, "Authorization": "not-a-token"}
    assert (await api.request("POST", "/api/v1/webhooks/livekit", content=body, headers=forged)).status_code == 401
    scraped = await scrape(api)
    accepted = {"source": "livekit", "event": "room_finished", "outcome": "accepted"}
    assert value(scraped, "meet_webhook_events_total", **accepted) == 2  # the second is a duplicate, acknowledged
    assert value(scraped, "meet_webhook_events_total", source="livekit", event="unknown", outcome="rejected") == 1
