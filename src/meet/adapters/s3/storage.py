"""``ObjectStorage`` on any S3-compatible endpoint, with path-style addressing (what MinIO needs).

Downloads never go through this process: ``signed_get_headers`` signs (SigV4) one GET of an object
for nginx to send to ``{endpoint}/{bucket}/{key}``. The signature covers the method, the path, the
``Host`` header and the date, so nginx must request exactly that path with the Host of
``endpoint_url`` (see deploy/nginx), within S3's 15-minute clock-skew window.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ConnectTimeoutError, ReadTimeoutError

from meet.domain.recordings.errors import StorageRequestFailed, StorageUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger("meet.storage")

# SHA-256 of an empty body: a GET carries none, and nginx sends none.
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@dataclass(frozen=True, slots=True)
class S3Location:
    endpoint_url: str
    bucket: str
    region: str
    access_key: str
    secret_key: str = field(repr=False)
    timeout_seconds: float = 5.0

    @property
    def host(self) -> str:
        """The ``Host`` a request to the endpoint carries (and the signature covers)."""
        return urlsplit(self.endpoint_url).netloc


class S3ObjectStorage:
    def __init__(self, location: S3Location) -> None:
        self._location = location
        self._credentials = Credentials(location.access_key, location.secret_key)
        self._client: S3Client = boto3.client(
            "s3",
            endpoint_url=location.endpoint_url,
            aws_access_key_id=location.access_key,
            aws_secret_access_key=location.secret_key,
            region_name=location.region,
            config=Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                connect_timeout=location.timeout_seconds,
                read_timeout=location.timeout_seconds,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )

    def object_url(self, key: str) -> str:
        return f"{self._location.endpoint_url.rstrip('/')}/{self._location.bucket}/{quote(key, safe='/')}"

    async def delete(self, key: str) -> None:
        try:
            # boto3 is synchronous: keep the event loop free while it waits on the network.
            await asyncio.to_thread(self._client.delete_object, Bucket=self._location.bucket, Key=key)
        except (ConnectionError, ConnectTimeoutError, ReadTimeoutError) as error:
            logger.warning("S3 delete of %s: storage unreachable (%s)", key, type(error).__name__)
            raise StorageUnavailable from error
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            logger.warning("S3 delete of %s refused: %s", key, code)
            raise StorageRequestFailed(f"The storage refused to delete the object ({code}).") from error
        except BotoCoreError as error:
            logger.warning("S3 delete of %s failed: %s", key, type(error).__name__)
            raise StorageRequestFailed from error

    def signed_get_headers(self, key: str) -> dict[str, str]:
        request = AWSRequest(method="GET", url=self.object_url(key), headers={"X-Amz-Content-SHA256": EMPTY_SHA256})
        S3SigV4Auth(self._credentials, "s3", self._location.region).add_auth(request)
        return {
            "Authorization": str(request.headers["Authorization"]),
            "X-Amz-Date": str(request.headers["X-Amz-Date"]),
            "X-Amz-Content-SHA256": str(request.headers["X-Amz-Content-SHA256"]),
        }

    async def check_bucket(self) -> None:
        """Raise unless the bucket answers (for the readiness probe)."""
        try:
            await asyncio.to_thread(self._client.head_bucket, Bucket=self._location.bucket)
        except (ConnectionError, ConnectTimeoutError, ReadTimeoutError) as error:
            raise StorageUnavailable from error
        except (ClientError, BotoCoreError) as error:
            raise StorageRequestFailed("The storage does not answer for the bucket.") from error

    def close(self) -> None:
        self._client.close()


class S3Health:
    """Readiness: the recordings' bucket answers on the S3 endpoint."""

    name = "storage"

    def __init__(self, storage: S3ObjectStorage) -> None:
        self._storage = storage

    async def ping(self) -> None:
        await self._storage.check_bucket()
