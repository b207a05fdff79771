"""``S3ObjectStorage`` against a real S3 endpoint: deleting objects, and GET headers the endpoint accepts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from meet.adapters.s3.storage import S3Location, S3ObjectStorage
from meet.domain.recordings.errors import StorageRequestFailed, StorageUnavailable
from tests.support.s3 import start_verifying_s3
from tests.support.services import S3, free_port

BUCKET = "meet-storage-test"


def storage_on(server: S3, bucket: str = BUCKET, *, secret: str | None = None) -> S3ObjectStorage:
    location = S3Location(
        endpoint_url=server.endpoint_url,
        bucket=bucket,
        region=server.region,
        access_key=server.access_key,
        secret_key=secret or server.secret_key,
        timeout_seconds=2,
    )
    return S3ObjectStorage(location)


@pytest.fixture(scope="module")
def verifying_s3() -> Iterator[S3]:
    with start_verifying_s3(BUCKET) as server:
        yield server


def put(server: S3, key: str, body: bytes, bucket: str = BUCKET) -> None:
    server.client().put_object(Bucket=bucket, Key=key, Body=body, ContentType="video/mp4")


def exists(server: S3, key: str, bucket: str = BUCKET) -> bool:
    return int(server.client().list_objects_v2(Bucket=bucket, Prefix=key)["KeyCount"]) > 0


async def test_delete_removes_the_object_and_only_it(s3_service: S3) -> None:
    s3_service.create_bucket(BUCKET)
    key, other = f"recordings/{uuid.uuid4()}.mp4", f"recordings/{uuid.uuid4()}.mp4"
    put(s3_service, key, b"a")
    put(s3_service, other, b"b")
    storage = storage_on(s3_service)

    await storage.delete(key)

    assert not exists(s3_service, key)
    assert exists(s3_service, other)
    await storage.delete(key)  # already gone: not an error


async def test_a_missing_bucket_is_a_refusal_and_a_dead_endpoint_unavailable(s3_service: S3) -> None:
    with pytest.raises(StorageRequestFailed):
        await storage_on(s3_service, bucket=f"missing-{uuid.uuid4().hex[:8]}").delete("recordings/x.mp4")
    dead = S3(endpoint_url=f"http://127.0.0.1:{free_port()}", access_key="a", secret_key="b")
    with pytest.raises(StorageUnavailable):
        await storage_on(dead).delete("recordings/x.mp4")


def test_signed_headers_fetch_exactly_that_object(verifying_s3: S3) -> None:
    key, other = f"recordings/{uuid.uuid4()}.mp4", f"recordings/{uuid.uuid4()}.mp4"
    put(verifying_s3, key, b"\x00\x01 the recording")
    put(verifying_s3, other, b"another recording")
    storage = storage_on(verifying_s3)
    url = f"{verifying_s3.endpoint_url}/{BUCKET}/"
    headers = storage.signed_get_headers(key)
    assert set(headers) == {"Authorization", "X-Amz-Date", "X-Amz-Content-SHA256"}

    assert httpx.get(url + key, headers=headers).content == b"\x00\x01 the recording"
    assert httpx.get(url + key).status_code == 403  # the endpoint does check signatures
    assert httpx.get(url + other, headers=headers).status_code == 403
    assert httpx.delete(url + key, headers=headers).status_code == 403
    assert httpx.get(url + key, headers={**headers, "Host": "elsewhere.example"}).status_code == 403
    forged = storage_on(verifying_s3, secret="not-the-secret").signed_get_headers(key)
    assert httpx.get(url + key, headers=forged).status_code == 403
    assert exists(verifying_s3, key)


async def test_delete_works_where_signatures_are_checked(verifying_s3: S3) -> None:
    key = f"recordings/{uuid.uuid4()}.ogg"
    put(verifying_s3, key, b"ogg")
    await storage_on(verifying_s3).delete(key)
    assert not exists(verifying_s3, key)
    with pytest.raises(StorageRequestFailed):
        await storage_on(verifying_s3, secret="not-the-secret").delete(key)
