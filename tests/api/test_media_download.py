"""Recording downloads end to end: a real nginx (deploy/nginx/meet.conf) in front of a served API process
and a real S3 endpoint that checks signatures. Nobody but the right user gets the right file's bytes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from meet.adapters.sqlalchemy.database import create_engine, create_session_factory
from meet.adapters.sqlalchemy.recordings import SqlaRecordingRepository
from meet.entrypoints.http.app import SESSION_COOKIE
from tests.support.livekit_server import LiveKitServer
from tests.support.nginx import Nginx, start_nginx
from tests.support.s3 import start_verifying_s3
from tests.support.served import serve
from tests.support.services import S3, ServiceNotFound

BUCKET = "meet-media-e2e"
HOOK_TOKEN = "e2e-storage-hook-token-0123456789"


@dataclass
class Site:
    nginx: Nginx
    s3: S3
    database: str
    sessions: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (media path, bytes)

    def cookie(self, sub: str) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={self.sessions[sub]}"}

    def api(self, method: str, path: str, sub: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**(self.cookie(sub) if sub else {}), **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.nginx.base_url}{path}", headers=headers, timeout=10, **kwargs)

    def sign_in(self, sub: str) -> None:
        response = self.api("POST", "/api/v1/auth/dev-login", json={"sub": sub, "email": f"{sub}@example.org"})
        assert response.status_code == 200, response.text
        self.sessions[sub] = response.cookies[SESSION_COOKIE]

    def saved_recording(self, livekit: LiveKitServer, owner: str, room_name: str, content: bytes) -> str:
        """A room of ``owner`` recorded, stopped, its object uploaded and notified; answer the media path."""
        room = self.api("POST", "/api/v1/rooms", owner, json={"name": room_name}).json()
        livekit.add_participant(room["id"], owner)
        started = self.api("POST", f"/api/v1/rooms/{room['id']}/recordings", owner, json={"mode": "screen_recording"})
        assert started.status_code == 201, started.text
        recording = started.json()
        assert self.api("POST", f"/api/v1/rooms/{room['id']}/recordings/stop", owner).status_code == 200
        key = f"recordings/{recording['id']}.mp4"
        self.s3.client().put_object(Bucket=BUCKET, Key=key, Body=content, ContentType="video/mp4")  # the egress
        event = {
            "EventName": "s3:ObjectCreated:Put",
            "Key": f"{BUCKET}/{key}",
            "Records": [
                {
                    "eventName": "s3:ObjectCreated:Put",
                    "s3": {
                        "bucket": {"name": BUCKET},
                        "object": {"key": key.replace("/", "%2F"), "size": len(content), "contentType": "video/mp4"},
                    },
                }
            ],
        }
        hook = self.api(
            "POST", "/api/v1/recordings/storage-hook", json=event, headers={"Authorization": f"Bearer {HOOK_TOKEN}"}
        )
        assert hook.json()["saved"] == [recording["id"]], hook.text
        return f"/media/recordings/{recording['id']}.mp4"


@pytest.fixture(scope="module")
def site(nginx_binary: str, livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    livekit_server.reset()
    workdir: Path = tmp_path_factory.mktemp("media")
    try:
        with (
            start_verifying_s3(BUCKET) as s3,
            serve(
                workdir,
                data_dir=str(workdir / "data"),
                livekit_url=livekit_server.url,
                s3_endpoint_url=s3.endpoint_url,
                s3_bucket=BUCKET,
                s3_region=s3.region,
                s3_access_key=s3.access_key,
                s3_secret_key=s3.secret_key,
                storage_hook_token=HOOK_TOKEN,
                recording_expiry_days="30",
                cookie_secure="false",
            ) as api,
            start_nginx(nginx_binary, api_url=api.base_url, s3_endpoint_url=s3.endpoint_url, bucket=BUCKET) as nginx,
        ):
            site = Site(nginx=nginx, s3=s3, database=f"sqlite+aiosqlite:///{workdir / 'data' / 'meet.sqlite3'}")
            for sub in ("owner", "stranger"):
                site.sign_in(sub)
            for name, owner, content in (
                ("mine", "owner", b"\x00\x00\x00\x18ftypmp42 the owner's meeting" + bytes(range(256)) * 64),
                ("theirs", "stranger", b"\x00\x00\x00\x18ftypmp42 someone else's meeting"),
                ("old", "owner", b"an old meeting"),
            ):
                site.files[name] = (site.saved_recording(livekit_server, owner, f"Room {name}", content), content)
            s3.client().put_object(Bucket=BUCKET, Key="secret.txt", Body=b"not a recording")
            yield site
    except ServiceNotFound as error:
        pytest.fail(str(error))


def test_the_owner_downloads_the_exact_bytes(site: Site) -> None:
    path, content = site.files["mine"]
    status, body = site.nginx.get(path, site.cookie("owner"))
    assert (status, body) == (200, content)
    ranged = site.api("GET", path, "owner", headers={"Range": "bytes=4-11"})
    assert (ranged.status_code, ranged.content) == (206, content[4:12])
    assert site.api("HEAD", path, "owner").status_code == 200


def test_a_stranger_gets_403_and_anonymous_401(site: Site) -> None:
    mine, _ = site.files["mine"]
    theirs, _ = site.files["theirs"]
    assert site.nginx.get(mine, site.cookie("stranger"))[0] == 403
    assert site.nginx.get(theirs, site.cookie("owner"))[0] == 403
    assert site.nginx.get(mine)[0] == 401
    assert site.nginx.get(mine, {"Cookie": f"{SESSION_COOKIE}=forged"})[0] == 401


def test_an_unknown_recording_is_404_and_storage_is_never_reached_directly(site: Site) -> None:
    assert site.nginx.get(f"/media/recordings/{uuid.uuid4()}.mp4", site.cookie("owner"))[0] == 404
    mine, _ = site.files["mine"]
    assert site.nginx.get(mine.replace(".mp4", ".ogg"), site.cookie("owner"))[0] == 404
    assert httpx.get(f"{site.s3.endpoint_url}/{BUCKET}/recordings/{mine.rsplit('/', 1)[1]}").status_code == 403


def test_an_expired_recording_is_403(site: Site) -> None:
    path, _ = site.files["old"]
    assert site.nginx.get(path, site.cookie("owner"))[0] == 200

    async def expire() -> None:
        engine = create_engine(site.database)
        try:
            async with create_session_factory(engine)() as session:
                recordings = SqlaRecordingRepository(session)
                recording = await recordings.get(uuid.UUID(path.rsplit("/", 1)[1].removesuffix(".mp4")))
                assert recording is not None
                recording.expires_at = datetime.now(UTC) - timedelta(seconds=1)
                await recordings.update(recording)
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(expire())
    assert site.nginx.get(path, site.cookie("owner"))[0] == 403


@pytest.mark.parametrize(
    "target",
    [
        "/media/recordings/../secret.txt",
        "/media/recordings/../../{bucket}/secret.txt",
        "/media/recordings/{mine}/../{theirs}",
        "/media/recordings/%2e%2e/{theirs}",
        "/media/recordings/%2e%2e/%2e%2e/secret.txt",
        "/media/recordings/{mine}%2f..%2f{theirs}",
        "/media/recordings/..%2f{theirs}",
        "/media/recordings/%252e%252e/{theirs}",
        "/media/recordings/%252e%252e%252fsecret.txt",
        "/media/recordings/{mine}/..%252f{theirs}",
        "/media/recordings//{theirs}",
        "/media/recordings/{theirs_upper}",
        "/media/recordings/{mine}?x=/../{theirs}",
        "/media/recordings/%7b{theirs}",
        "/media/{bucket}/recordings/{theirs}",
        "/media/../{bucket}/recordings/{theirs}",
    ],
)
def test_no_path_reaches_another_object(site: Site, target: str) -> None:
    mine, my_bytes = site.files["mine"]
    theirs, their_bytes = site.files["theirs"]
    request = target.format(
        bucket=BUCKET,
        mine=mine.rsplit("/", 1)[1],
        theirs=theirs.rsplit("/", 1)[1],
        theirs_upper=theirs.rsplit("/", 1)[1].upper(),
    )
    status, body = site.nginx.get(request, site.cookie("owner"))
    assert their_bytes not in body
    assert b"not a recording" not in body
    if status == 200:
        assert body == my_bytes  # only ever the caller's own file (a query string is not part of the path)
    else:
        assert 400 <= status < 500, (request, status)
