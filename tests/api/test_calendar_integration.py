"""End to end, in the shape of a calendar integration: an application creates a room for a user who has
never used meet, lists it, then the user signs in with the identity provider and finds it as owner."""

from __future__ import annotations

from typing import Any

from meet.entrypoints.http.app import SESSION_COOKIE
from tests.api.conftest import BASE_URL
from tests.api.test_oidc_sign_in import consent_at_provider, path_of, start_login
from tests.support.applications import JWT_BEARER, TOKEN_URL, register
from tests.support.services import OidcProvider


async def test_a_calendar_creates_a_meeting_the_user_later_finds_as_owner(
    api_with: Any, oidc_provider: OidcProvider
) -> None:
    async with api_with(
        oidc_issuer=oidc_provider.issuer,
        oidc_client_id=oidc_provider.client_id,
        oidc_client_secret=oidc_provider.client_secret,
        application_allow_user_creation="true",
        frontend_url="/app/",
    ) as api:
        calendar = await register(api, ["rooms:create", "rooms:list"], domains=("example.org",), public_key=True)

        # The calendar signs an assertion for the event's organiser and obtains a token acting for her.
        assertion = calendar.assertion("zoe@example.org", audience=f"{BASE_URL}{TOKEN_URL}")
        granted = await api.request("POST", TOKEN_URL, data={"grant_type": JWT_BEARER, "assertion": assertion})
        assert granted.status_code == 200, granted.text
        auth = {"Authorization": f"Bearer {granted.json()['access_token']}"}
        created = await api.request("POST", "/api/v1/rooms", json={"name": "Quarterly review"}, headers=auth)
        assert created.status_code == 201, created.text
        room = created.json()
        listed = await api.request("GET", "/api/v1/rooms", headers=auth)
        assert [(r["id"], r["role"]) for r in listed.json()["results"]] == [(room["id"], "owner")]

        # Zoe signs in for the first time, through the identity provider, with the same email.
        authorize_url, cookie = await start_login(api)
        back = await consent_at_provider(
            oidc_provider, authorize_url, "zoe-sub", {"email": "zoe@example.org", "name": "Zoe Quinn"}
        )
        signed = await api.request(
            "GET", path_of(back), headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}, follow_redirects=False
        )
        assert signed.status_code == 302, signed.text
        session = {"Cookie": f"{SESSION_COOKIE}={signed.cookies[SESSION_COOKIE]}"}
        me = (await api.request("GET", "/api/v1/users/me", headers=session)).json()
        assert (me["sub"], me["email"], me["full_name"]) == ("zoe-sub", "zoe@example.org", "Zoe Quinn")
        mine = await api.request("GET", "/api/v1/rooms", headers=session)
        assert [(r["id"], r["name"], r["role"]) for r in mine.json()["results"]] == [
            (room["id"], "Quarterly review", "owner")
        ]
        # In her session she may enter it directly, with a connection to the SFU.
        opened = await api.request("GET", f"/api/v1/rooms/{room['slug']}", headers=session)
        assert opened.json()["livekit"] is not None


async def test_a_provisional_user_is_never_claimed_by_a_user_with_a_sub_of_their_own(api_with: Any) -> None:
    async with api_with(application_allow_user_creation="true") as api:
        app = await register(api, ["rooms:create"])
        # Someone already known with this email keeps their account: the application acts for them.
        yan = await api.sign_in("yan-sub", email="yan@example.org")
        form = {"grant_type": "client_credentials", "subject": "yan@example.org"}
        token = await api.request("POST", TOKEN_URL, data=form, headers=app.basic())
        assert token.status_code == 200
        me = await api.request(
            "GET", "/api/v1/users/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        assert me.json()["id"] == yan["id"]
        # Signing in again with another sub and the same email does not take Yan's account.
        other = await api.sign_in("other-sub", email="yan@example.org")
        assert other["id"] != yan["id"]
