"""meet as a resource server: the organisation's identity provider (a real, independent oidc-provider
process) issues access tokens; meet accepts them for the user it knows from sign-in (same ``sub``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from meet.entrypoints.settings import SettingsError, load_settings
from tests.api.conftest import Api
from tests.support.services import NodeOidcProvider, free_port


def settings_for(provider: NodeOidcProvider, **extra: str) -> dict[str, str]:
    return {
        "oidc_issuer": provider.issuer,
        "oidc_client_id": provider.client_id,
        "oidc_client_secret": provider.client_secret,
        "oidc_resource_server": "true",
        "oidc_audience": provider.audience,
        **extra,
    }


@pytest.fixture
async def jwt_api(
    api_with: Callable[..., AbstractAsyncContextManager[Api]], node_oidc_provider: NodeOidcProvider
) -> AsyncIterator[Api]:
    async with api_with(**settings_for(node_oidc_provider)) as api:
        yield api


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_jwt_access_token_of_the_provider_acts_for_the_user_meet_knows(
    jwt_api: Api, node_oidc_provider: NodeOidcProvider
) -> None:
    await jwt_api.sign_in("alice-sub", email="alice@example.org")
    token = node_oidc_provider.access_token("alice-sub", scope="openid rooms:create rooms:list")
    created = await jwt_api.request("POST", "/api/v1/rooms", json={"name": "From the portal"}, headers=auth(token))
    assert created.status_code == 201, created.text
    listed = await jwt_api.request("GET", "/api/v1/rooms", headers=auth(token))
    assert [r["id"] for r in listed.json()["results"]] == [created.json()["id"]]
    assert "set-cookie" not in listed.headers
    mine = await jwt_api.request("GET", "/api/v1/rooms", user="alice-sub")
    assert [(r["id"], r["role"]) for r in mine.json()["results"]] == [(created.json()["id"], "owner")]
    # Its scopes bound it like an application's.
    refused = await jwt_api.request("DELETE", f"/api/v1/rooms/{created.json()['id']}", headers=auth(token))
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"
    # The La Suite external API accepts it too.
    lasuite = await jwt_api.request("GET", "/external-api/v1.0/rooms", headers=auth(token))
    assert lasuite.status_code == 200
    assert lasuite.json()["count"] == 1


async def test_jwt_access_tokens_are_checked_for_audience_expiry_issuer_and_user(
    jwt_api: Api, node_oidc_provider: NodeOidcProvider
) -> None:
    await jwt_api.sign_in("bob-sub", email="bob@example.org")
    refused = {
        "another audience": node_oidc_provider.access_token("bob-sub", audience="https://other.example/api"),
        "expired": node_oidc_provider.access_token("bob-sub", expires_in=-60),
        "opaque without introspection": node_oidc_provider.access_token("bob-sub", opaque=True),
        "a user meet never saw": node_oidc_provider.access_token("stranger-sub"),
    }
    for name, token in refused.items():
        response = await jwt_api.request("GET", "/api/v1/rooms", headers=auth(token))
        assert response.status_code == 401, (name, response.text)
        assert response.json()["error"] == "invalid_token", name
    good = node_oidc_provider.access_token("bob-sub")
    assert (await jwt_api.request("GET", "/api/v1/rooms", headers=auth(good))).status_code == 200
    # A token signed with the provider's key layout but by someone else.
    head, payload, _ = good.split(".")
    forged = f"{head}.{payload}.{'A' * 342}"
    assert (await jwt_api.request("GET", "/api/v1/rooms", headers=auth(forged))).status_code == 401


async def test_opaque_tokens_are_introspected(
    api_with: Callable[..., AbstractAsyncContextManager[Api]], node_oidc_provider: NodeOidcProvider
) -> None:
    async with api_with(**settings_for(node_oidc_provider, oidc_introspection="true")) as api:
        await api.sign_in("carol-sub", email="carol@example.org")
        opaque = node_oidc_provider.access_token("carol-sub", opaque=True, scope="rooms:list")
        response = await api.request("GET", "/api/v1/rooms", headers=auth(opaque))
        assert response.status_code == 200, response.text
        no_scope = await api.request("POST", "/api/v1/rooms", json={"name": "x"}, headers=auth(opaque))
        assert no_scope.status_code == 403
        assert "rooms:create" in no_scope.json()["detail"]
        made_up = await api.request("GET", "/api/v1/rooms", headers=auth("made-up-opaque-token"))
        assert made_up.status_code == 401
        expired = node_oidc_provider.access_token("carol-sub", opaque=True, expires_in=-60)
        assert (await api.request("GET", "/api/v1/rooms", headers=auth(expired))).status_code == 401
        # JWT tokens still verify locally alongside.
        jwt = node_oidc_provider.access_token("carol-sub")
        assert (await api.request("GET", "/api/v1/rooms", headers=auth(jwt))).status_code == 200


async def test_an_unreachable_provider_is_a_503_with_retry_after(api_with: Any) -> None:
    issuer = f"http://127.0.0.1:{free_port()}"
    settings = {"oidc_issuer": issuer, "oidc_client_id": "meet", "oidc_client_secret": "s",
                "oidc_resource_server": "true", "oidc_audience": "meet", "oidc_introspection": "true"}  # fmt: skip
    async with api_with(**settings) as api:
        response = await api.request("GET", "/api/v1/rooms", headers=auth("opaque-token"))
        assert response.status_code == 503
        assert response.headers["retry-after"]
        assert response.json()["error"] == "identity_provider_unavailable"


def test_the_resource_server_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="MEET_OIDC_RESOURCE_SERVER needs MEET_OIDC_ISSUER"):
        load_settings({"MEET_OIDC_RESOURCE_SERVER": "true"}, dotenv=None)
    with pytest.raises(SettingsError, match="MEET_OIDC_AUDIENCE"):
        load_settings(
            {
                "MEET_OIDC_RESOURCE_SERVER": "true",
                "MEET_OIDC_ISSUER": "https://id.example",
                "MEET_OIDC_CLIENT_ID": "m",
                "MEET_OIDC_CLIENT_SECRET": "s",
            },
            dotenv=None,
        )
