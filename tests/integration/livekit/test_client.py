"""The client factory, the error translation, and the double's own wire checks (it must really verify tokens)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf.message import DecodeError, Message
from livekit.api import AccessToken, VideoGrants
from livekit.api.twirp_client import ServerError
from livekit.protocol import egress as egress_pb
from livekit.protocol import room as room_pb

from meet.adapters.livekit.client import LiveKitClientFactory, http_url, sfu_errors
from meet.adapters.livekit.client import LiveKitServer as Connection
from meet.adapters.livekit.room_service import LiveKitSfu
from meet.domain.conference.errors import ParticipantNotInRoom, SfuRequestFailed, SfuUnavailable
from tests.support.livekit_server import LiveKitServer, run_livekit_server

ROOM = "room-1"


def test_the_api_url_is_derived_from_the_websocket_url() -> None:
    assert http_url("ws://127.0.0.1:7880") == "http://127.0.0.1:7880"
    assert http_url("wss://livekit.example.org/") == "https://livekit.example.org"
    assert http_url("https://livekit.example.org/base/") == "https://livekit.example.org/base"
    with pytest.raises(ValueError, match="ftp"):
        http_url("ftp://livekit.example.org")


def test_the_factory_can_be_built_outside_any_event_loop() -> None:
    factory = LiveKitClientFactory(Connection(url="ws://127.0.0.1:1", api_key="k", api_secret="s"))
    assert "api_secret" not in repr(factory.server)
    with pytest.raises(RuntimeError):
        factory.api()  # aiohttp needs a running loop; the factory only creates the client on first use


async def test_the_client_is_created_once_per_loop_and_closed(livekit: LiveKitServer) -> None:
    livekit.add_participant(ROOM, "alice")
    factory = LiveKitClientFactory(Connection(url=livekit.url, api_key=livekit.api_key, api_secret=livekit.api_secret))
    first = factory.api()
    assert factory.api() is first
    assert len(await LiveKitSfu(factory).list_participants(ROOM)) == 1
    session = first.room._client._session
    await factory.aclose()
    assert session.closed
    assert factory.api() is not first  # usable again after closing, with a fresh session
    await factory.aclose()


def self_signed_tls(directory: Path) -> ssl.SSLContext:
    """A server context for 127.0.0.1 with a certificate no client trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


async def test_tls_verification_can_be_switched_off(tmp_path: Path) -> None:
    with run_livekit_server(ssl_context=self_signed_tls(tmp_path)) as tls_double:
        tls_double.add_participant(ROOM, "alice")
        assert tls_double.url.startswith("wss://")
        checked = LiveKitClientFactory(Connection(url=tls_double.url, api_key="devkey", api_secret="secret"))
        unchecked = LiveKitClientFactory(
            Connection(url=tls_double.url, api_key="devkey", api_secret="secret", verify_tls=False)
        )
        try:
            with pytest.raises(SfuUnavailable):
                await LiveKitSfu(checked).list_participants(ROOM)  # the certificate is not trusted
            assert [p.identity for p in await LiveKitSfu(unchecked).list_participants(ROOM)] == ["alice"]
        finally:
            await checked.aclose()
            await unchecked.aclose()


async def raise_inside(error: BaseException, *, not_found_means_absent: bool = True) -> None:
    async with sfu_errors("Test", not_found_means_absent=not_found_means_absent):
        raise error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ServerError("not_found", "participant does not exist", status=404), ParticipantNotInRoom),
        (ServerError("bad_route", "no handler", status=404), SfuRequestFailed),  # a wrong URL, not an absence
        (ServerError("unknown", "", status=404), SfuRequestFailed),  # a proxy's HTML 404
        (ServerError("unauthenticated", "permissions denied", status=401), SfuRequestFailed),
        (ServerError("internal", "boom", status=500), SfuRequestFailed),
        (ServerError("unknown", "", status=502), SfuRequestFailed),
        (TimeoutError(), SfuUnavailable),
        (aiohttp.ClientConnectorDNSError(None, OSError("no such host")), SfuUnavailable),  # type: ignore[arg-type]
        (aiohttp.ServerDisconnectedError(), SfuUnavailable),
        (ConnectionRefusedError(), SfuUnavailable),
        (aiohttp.ClientPayloadError("truncated"), SfuRequestFailed),
        (DecodeError("not protobuf"), SfuRequestFailed),
    ],
)
async def test_failures_are_translated(error: BaseException, expected: type[Exception]) -> None:
    with pytest.raises(expected) as raised:
        await raise_inside(error)
    assert raised.value.__cause__ is error


async def test_an_unknown_egress_is_a_refusal_not_an_absence() -> None:
    with pytest.raises(SfuRequestFailed):
        await raise_inside(ServerError("not_found", "egress does not exist", status=404), not_found_means_absent=False)


async def test_a_server_that_closes_the_connection_is_unavailable() -> None:
    # Accepts TCP and hangs up without a word: what a crashing or restarting server looks like.
    async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    factory = LiveKitClientFactory(Connection(url=f"ws://127.0.0.1:{port}", api_key="devkey", api_secret="secret"))
    try:
        with pytest.raises(SfuUnavailable):
            await LiveKitSfu(factory).list_participants(ROOM)
    finally:
        await factory.aclose()
        server.close()
        await server.wait_closed()


# --- the double itself: it must check what the real server checks -------------------------------


def token(livekit: LiveKitServer, grants: VideoGrants, *, secret: str | None = None) -> str:
    return (
        AccessToken(livekit.api_key, secret or livekit.api_secret).with_identity("tester").with_grants(grants).to_jwt()
    )


async def post(
    livekit: LiveKitServer, path: str, body: bytes, *, bearer: str | None, content_type: str = "application/protobuf"
) -> tuple[int, bytes]:
    headers = {"Content-Type": content_type}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{livekit.http_url}/twirp/livekit.{path}", data=body, headers=headers) as response,
    ):
        return response.status, await response.read()


async def test_the_double_answers_json_requests_in_json(livekit: LiveKitServer) -> None:
    livekit.add_participant(ROOM, "alice", attributes={"room_role": "member"})
    bearer = token(livekit, VideoGrants(room_admin=True, room=ROOM))
    status, body = await post(
        livekit,
        "RoomService/ListParticipants",
        json.dumps({"room": ROOM}).encode(),
        bearer=bearer,
        content_type="application/json",
    )
    assert status == 200
    participants = json.loads(body)["participants"]
    assert [(p["identity"], p["attributes"]) for p in participants] == [("alice", {"room_role": "member"})]
    assert livekit.calls("ListParticipants")[0].content_type == "application/json"


@pytest.mark.parametrize(
    ("path", "request_body", "grants"),
    [
        # Admin of another room: LiveKit scopes room_admin to the token's room.
        ("RoomService/ListParticipants", room_pb.ListParticipantsRequest(room=ROOM), VideoGrants(room_admin=True)),
        (
            "RoomService/UpdateRoomMetadata",
            room_pb.UpdateRoomMetadataRequest(room=ROOM, metadata="{}"),
            VideoGrants(room_admin=True, room="other-room"),
        ),
        # A participant's join token is no admin token.
        (
            "RoomService/RemoveParticipant",
            room_pb.RoomParticipantIdentity(room=ROOM, identity="alice"),
            VideoGrants(room_join=True, room=ROOM),
        ),
        # Egress needs room_record, which room_admin does not imply.
        ("Egress/StopEgress", egress_pb.StopEgressRequest(egress_id="EG_1"), VideoGrants(room_admin=True, room=ROOM)),
        ("RoomService/ListRooms", room_pb.ListRoomsRequest(), VideoGrants(room_admin=True, room=ROOM)),
    ],
)
async def test_the_double_demands_the_grant_livekit_demands(
    livekit: LiveKitServer, path: str, request_body: Message, grants: VideoGrants
) -> None:
    livekit.add_participant(ROOM, "alice")
    status, body = await post(livekit, path, request_body.SerializeToString(), bearer=token(livekit, grants))
    assert (status, json.loads(body)["code"]) == (401, "unauthenticated")
    assert livekit.calls() == []
    assert len(livekit.rejected_calls()) == 1
    assert [p.identity for p in livekit.participants(ROOM)] == ["alice"]


async def test_the_double_refuses_missing_and_forged_tokens(livekit: LiveKitServer) -> None:
    livekit.add_participant(ROOM, "alice")
    body = room_pb.ListParticipantsRequest(room=ROOM).SerializeToString()
    grants = VideoGrants(room_admin=True, room=ROOM)
    for bearer in (None, "not-a-jwt", token(livekit, grants, secret="forged")):
        status, answer = await post(livekit, "RoomService/ListParticipants", body, bearer=bearer)
        assert (status, json.loads(answer)["code"]) == (401, "unauthenticated")
    status, _ = await post(livekit, "RoomService/ListParticipants", body, bearer=token(livekit, grants))
    assert status == 200
    assert [c.grants for c in livekit.rejected_calls()] == [None, None, None]


async def test_the_double_rejects_unknown_routes_and_garbage(livekit: LiveKitServer) -> None:
    bearer = token(livekit, VideoGrants(room_admin=True, room=ROOM))
    status, answer = await post(livekit, "RoomService/Teleport", b"", bearer=bearer)
    assert (status, json.loads(answer)["code"]) == (404, "bad_route")
    status, answer = await post(livekit, "RoomService/ListParticipants", b"\xff\xff\xff", bearer=bearer)
    assert (status, json.loads(answer)["code"]) == (400, "malformed")
    assert livekit.errors() == []
