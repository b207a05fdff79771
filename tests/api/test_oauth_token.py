"""``POST /api/v1/oauth/token``: the JWT bearer and client credentials grants, and every refusal."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from joserfc.jwk import ECKey

from tests.api.conftest import BASE_URL, Api
from tests.support.applications import JWT_BEARER, TOKEN_URL, App, manage, register, token_for

AUDIENCE = f"{BASE_URL}{TOKEN_URL}"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


async def jwt_grant(api: Api, assertion: str, **form: str) -> Any:
    return await api.request("POST", TOKEN_URL, data={"grant_type": JWT_BEARER, "assertion": assertion, **form})


async def test_client_credentials_issue_a_short_lived_token_acting_for_the_user(api: Api) -> None:
    alice = await api.sign_in("alice", email="alice@example.org")
    app = await register(api, ["rooms:create", "rooms:list"])
    response = await token_for(api, app, "Alice@Example.org", scope="rooms:list")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "rooms:list"
    assert 0 < body["expires_in"] <= 3600
    assert response.headers["cache-control"] == "no-store"
    claims = claims_of(body["access_token"])
    assert claims["sub"] == "alice"
    assert claims["uid"] == alice["id"]
    assert claims["client_id"] == app.client_id
    assert claims["aud"] == "meet-api"
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    # No scope asked: every scope of the application.
    everything = await token_for(api, app, "alice@example.org")
    assert everything.json()["scope"] == "rooms:create rooms:list"


async def test_the_jwt_bearer_grant_accepts_a_signed_assertion_once(api: Api) -> None:
    await api.sign_in("bob", email="bob@example.org")
    app = await register(api, ["rooms:list"], public_key=True)
    assertion = app.assertion("bob@example.org", audience=AUDIENCE)
    first = await jwt_grant(api, assertion)
    assert first.status_code == 200, first.text
    assert claims_of(first.json()["access_token"])["sub"] == "bob"
    replayed = await jwt_grant(api, assertion)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"
    assert "already used" in replayed.json()["error_description"]
    # The service's own URL names it as well as its token endpoint's (RFC 7523, 3).
    by_issuer = await jwt_grant(api, app.assertion("bob@example.org", audience=BASE_URL))
    assert by_issuer.status_code == 200, by_issuer.text


async def test_bad_assertions_are_invalid_grants(api: Api) -> None:
    await api.sign_in("carol", email="carol@example.org")
    app = await register(api, ["rooms:list"], public_key=True)
    now = int(time.time())
    cases = {
        "wrong audience": app.assertion("carol@example.org", audience="https://elsewhere.example/token"),
        "expired": app.assertion("carol@example.org", audience=AUDIENCE, iat=now - 600, exp=now - 300),
        "another key": app.assertion("carol@example.org", audience=AUDIENCE, key=ECKey.generate_key("P-256")),
        "no jti": app.assertion("carol@example.org", audience=AUDIENCE, jti=None),
        "too long": app.assertion("carol@example.org", audience=AUDIENCE, exp=now + 86400),
    }
    for name, assertion in cases.items():
        response = await jwt_grant(api, assertion)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["error"] == "invalid_grant", name
    unknown = App(client_id="7c9e6679-7425-40de-944b-e07fc1f90ae7", key=ECKey.generate_key("P-256"))
    response = await jwt_grant(api, unknown.assertion("carol@example.org", audience=AUDIENCE))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    garbage = await jwt_grant(api, "not-a-jwt")
    assert garbage.status_code == 400
    assert garbage.json()["error"] == "invalid_request"


async def test_bad_client_credentials_are_refused(api: Api) -> None:
    await api.sign_in("dave", email="dave@example.org")
    app = await register(api, ["rooms:list"])
    wrong = App(app.client_id, "not-the-secret")
    response = await token_for(api, wrong, "dave@example.org")
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "Invalid client credentials."}
    assert response.headers["www-authenticate"].startswith("Basic")
    unknown = await token_for(api, App("not-a-client", "whatever"), "dave@example.org")
    assert unknown.status_code == 401
    anonymous = await api.request(
        "POST", TOKEN_URL, data={"grant_type": "client_credentials", "subject": "x@example.org"}
    )
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"


async def test_a_disabled_application_is_refused_at_once_and_so_are_its_tokens(api: Api) -> None:
    await api.sign_in("erin", email="erin@example.org")
    app = await register(api, ["rooms:list"])
    token = (await token_for(api, app, "erin@example.org")).json()["access_token"]
    assert (await api.request("GET", "/api/v1/rooms", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    await (await manage(api)).disable(uuid.UUID(app.client_id))
    refused = await token_for(api, app, "erin@example.org")
    assert refused.status_code == 401
    assert refused.json() == {"error": "invalid_client", "error_description": "The application is disabled."}
    held = await api.request("GET", "/api/v1/rooms", headers={"Authorization": f"Bearer {token}"})
    assert held.status_code == 401
    assert held.json()["error"] == "invalid_token"


async def test_users_outside_the_application_domains_and_unknown_users_are_refused(api: Api) -> None:
    await api.sign_in("frank", email="frank@other.example")
    app = await register(api, ["rooms:list"])
    outside = await token_for(api, app, "frank@other.example")
    assert outside.status_code == 403
    assert outside.json()["error"] == "access_denied"
    not_an_email = await token_for(api, app, "frank")
    assert not_an_email.status_code == 403
    unknown = await token_for(api, app, "nobody@example.org")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_grant"
    no_subject = await token_for(api, app, "")
    assert no_subject.status_code == 400
    assert no_subject.json()["error"] == "invalid_request"


async def test_unknown_users_are_created_only_when_allowed(api_with: Any) -> None:
    async with api_with(application_allow_user_creation="true") as api:
        app = await register(api, ["rooms:list"])
        response = await token_for(api, app, "newcomer@example.org")
        assert response.status_code == 200, response.text
        assert claims_of(response.json()["access_token"])["sub"].startswith("provisional:")


async def test_scopes_beyond_the_application_and_unknown_grants_are_refused(api: Api) -> None:
    await api.sign_in("gina", email="gina@example.org")
    app = await register(api, ["rooms:list"])
    beyond = await token_for(api, app, "gina@example.org", scope="rooms:list rooms:delete")
    assert beyond.status_code == 400
    assert beyond.json()["error"] == "invalid_scope"
    assert "rooms:delete" in beyond.json()["error_description"]
    unknown = await token_for(api, app, "gina@example.org", scope="rooms:everything")
    assert unknown.json()["error"] == "invalid_scope"
    password = await api.request("POST", TOKEN_URL, data={"grant_type": "password", "username": "u", "password": "p"})
    assert password.status_code == 400
    assert password.json()["error"] == "unsupported_grant_type"
    missing = await api.request("POST", TOKEN_URL, data={})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


async def test_the_token_endpoint_is_rate_limited_per_application_and_failures_are_counted(api_with: Any) -> None:
    async with api_with(application_token_requests_per_minute="2") as api:
        await api.sign_in("hank", email="hank@example.org")
        app = await register(api, ["rooms:list"])
        other = await register(api, ["rooms:list"])
        assert (await token_for(api, app, "hank@example.org")).status_code == 200
        assert (await token_for(api, app, "hank@example.org")).status_code == 200
        limited = await token_for(api, app, "hank@example.org")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"] == "rate_limited"
        assert (await token_for(api, other, "hank@example.org")).status_code == 200  # per application
        await token_for(api, App(other.client_id, "wrong"), "hank@example.org")
        # Failed attempts count too: the password hash behind them is what the limit bounds.
        assert (await token_for(api, App(other.client_id, "wrong"), "hank@example.org")).status_code == 429
        metrics = (await api.request("GET", "/metrics")).text
        assert 'meet_oauth_token_requests_total{grant="client_credentials",outcome="issued"} 3.0' in metrics
        assert 'meet_oauth_token_requests_total{grant="client_credentials",outcome="rate_limited"} 2.0' in metrics
        assert 'meet_oauth_token_requests_total{grant="client_credentials",outcome="invalid_client"} 1.0' in metrics


async def test_a_replayed_assertion_is_refused_by_another_process(api_with: Any, redis_url: str) -> None:
    async with api_with(redis_url=redis_url) as first, api_with(redis_url=redis_url) as second:
        await first.sign_in("ivy", email="ivy@example.org")
        app = await register(first, ["rooms:list"], public_key=True)
        assertion = app.assertion("ivy@example.org", audience=AUDIENCE)
        assert (await jwt_grant(first, assertion)).status_code == 200
        replay = await jwt_grant(second, assertion)
        assert replay.status_code == 400
        assert replay.json()["error"] == "invalid_grant"


async def test_disabling_from_another_process_stops_issued_tokens_at_once_without_redis(api_with: Any) -> None:
    async with api_with() as serving, api_with() as operator:  # one SQLite database, no shared store
        await serving.sign_in("jay", email="jay@example.org")
        app = await register(serving, ["rooms:list"])
        token = (await token_for(serving, app, "jay@example.org")).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert (await serving.request("GET", "/api/v1/rooms", headers=headers)).status_code == 200
        await (await manage(operator)).disable(uuid.UUID(app.client_id))
        refused = await serving.request("GET", "/api/v1/rooms", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_token"
