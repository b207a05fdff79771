"""Applications and their token use case, with in-memory adapters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from meet.adapters.jose.access_tokens import JoseAccessTokens
from meet.adapters.jose.assertions import JoseAssertionVerifier
from meet.adapters.memory.applications import (
    MemoryApplicationRegistry,
    MemoryApplicationRevocations,
    MemoryRateLimiter,
    MemorySeenAssertions,
)
from meet.domain.applications.bearer import AuthenticateBearer, InvalidToken, NoProviderTokens
from meet.domain.applications.errors import AccessDenied, InvalidClient, InvalidScope
from meet.domain.applications.model import Application, hash_secret, secret_matches
from meet.domain.applications.use_cases import (
    ClientSecretRequest,
    IssueApplicationToken,
    ManageApplications,
    NewApplication,
    RegisterApplication,
    TokenPolicy,
)
from meet.domain.shared.clock import SystemClock
from meet.domain.users.model import User, Viewer
from meet.domain.users.scopes import ApiScope, MissingScope, NotForTokens
from tests.doubles.rooms import MemoryDatabase, MemoryReader, MemoryUnitOfWork


def application(**overrides: object) -> Application:
    values: dict[str, object] = {
        "client_id": uuid.uuid4(),
        "name": "Calendar",
        "scopes": frozenset({ApiScope.ROOMS_LIST, ApiScope.ROOMS_CREATE}),
        "domains": ("example.org",),
        "emails": ("guest@partner.example",),
        **overrides,
    }
    return Application(**values)  # type: ignore[arg-type]


def test_an_application_acts_only_for_its_domains_and_users() -> None:
    app = application()
    assert app.may_act_for("Alice@Example.ORG")
    assert app.may_act_for("guest@partner.example")
    assert not app.may_act_for("other@partner.example")
    assert not app.may_act_for("alice@example.org.evil.example")
    assert not app.may_act_for("alice@sub.example.org")
    assert not app.may_act_for("not an email")
    with pytest.raises(AccessDenied):
        app.require_may_act_for("mallory@evil.example")


def test_a_token_gets_at_most_the_application_scopes() -> None:
    app = application()
    assert app.grant(None) == app.scopes
    assert app.grant("rooms:list") == {ApiScope.ROOMS_LIST}
    with pytest.raises(InvalidScope, match=r"rooms:delete"):
        app.grant("rooms:list rooms:delete")
    with pytest.raises(InvalidScope, match=r"rooms:all"):
        app.grant("rooms:all")


def test_a_secret_is_kept_as_a_password_hash_only() -> None:
    stored = hash_secret("s3cret")
    assert "s3cret" not in stored
    assert stored != hash_secret("s3cret")  # salted
    assert secret_matches("s3cret", stored)
    assert not secret_matches("s3cret!", stored)
    assert not secret_matches("s3cret", None)
    assert not secret_matches("s3cret", "garbage")


def test_a_viewer_with_a_token_is_bounded_by_its_scopes_and_a_session_is_not() -> None:
    user = User(id=uuid.uuid4(), sub="alice")
    session = Viewer.of(user)
    session.require_scope(ApiScope.AUDIT_READ)
    session.require_session()
    token = Viewer(user_id=user.id, sub="alice", scopes=frozenset({ApiScope.ROOMS_LIST}))
    token.require_scope(ApiScope.ROOMS_LIST)
    with pytest.raises(MissingScope, match="rooms:create"):
        token.require_scope(ApiScope.ROOMS_CREATE)
    with pytest.raises(NotForTokens):
        token.require_session()


async def test_issued_tokens_authenticate_until_the_application_is_disabled() -> None:
    db = MemoryDatabase()
    uow = MemoryUnitOfWork(db)
    async with uow.begin() as tx:
        alice = await tx.users.add(User(id=uuid.uuid4(), sub="alice", email="alice@example.org"))
    registry, revocations = MemoryApplicationRegistry(), MemoryApplicationRevocations()
    tokens = JoseAccessTokens("k" * 40, issuer="meet", audience="meet-api")
    registered = await RegisterApplication(registry, SystemClock()).execute(
        NewApplication(name="Calendar", scopes=["rooms:list"], domains=["example.org"])
    )
    assert registered.client_secret
    issue = IssueApplicationToken(
        registry, JoseAssertionVerifier(), tokens, MemorySeenAssertions(), MemoryRateLimiter(), uow, SystemClock(),
        TokenPolicy(ttl_seconds=120, allow_user_creation=False, requests_per_minute=10),
    )  # fmt: skip
    client_id = str(registered.application.client_id)
    issued = await issue.execute(ClientSecretRequest(client_id, registered.client_secret, "alice@example.org"))
    authenticate = AuthenticateBearer(tokens, revocations, NoProviderTokens(), MemoryReader(db), SystemClock())
    viewer = await authenticate.execute(issued.access_token)
    assert (viewer.user_id, viewer.sub, viewer.scopes, viewer.client_id) == (
        alice.id, "alice", frozenset({ApiScope.ROOMS_LIST}), client_id
    )  # fmt: skip
    with pytest.raises(InvalidClient):
        await issue.execute(ClientSecretRequest(client_id, "wrong", "alice@example.org"))
    await ManageApplications(registry, revocations).disable(registered.application.client_id)
    with pytest.raises(InvalidToken):
        await authenticate.execute(issued.access_token)
    with pytest.raises(InvalidClient, match="disabled"):
        await issue.execute(ClientSecretRequest(client_id, registered.client_secret, "alice@example.org"))
    assert tokens.read(issued.access_token, datetime(2100, 1, 1, tzinfo=UTC)) is None  # expired by then
