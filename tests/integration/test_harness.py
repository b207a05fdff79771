"""Each fixture gives a working, real service."""

from __future__ import annotations

import smtplib
import subprocess
from email.message import EmailMessage

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.support.services import S3, Postgres, Redis, SmtpServer


async def test_postgres_answers(postgres_server: Postgres, fresh_postgres_database: str) -> None:
    connection = await asyncpg.connect(
        host=postgres_server.host, port=postgres_server.port, user=postgres_server.user,
        database=fresh_postgres_database.rsplit("/", 1)[1],
    )  # fmt: skip
    try:
        assert await connection.fetchval("SELECT 1") == 1
    finally:
        await connection.close()


async def test_redis_answers_and_comes_back_after_a_restart(redis_server: Redis) -> None:
    client = aioredis.from_url(redis_server.url)
    try:
        assert await client.ping()
        redis_server.stop()
        with pytest.raises(RedisConnectionError):
            await client.ping()
        redis_server.start()
        assert await client.ping()
    finally:
        await client.aclose()


def test_s3_stores_and_returns_objects(s3_service: S3) -> None:
    s3_service.create_bucket("harness")
    client = s3_service.client()
    client.put_object(Bucket="harness", Key="a/b.txt", Body=b"hello")
    assert client.get_object(Bucket="harness", Key="a/b.txt")["Body"].read() == b"hello"


def test_oidc_provider_publishes_its_discovery_document(oidc_provider) -> None:  # type: ignore[no-untyped-def]
    document = httpx.get(f"{oidc_provider.issuer}/.well-known/openid-configuration").json()
    assert document["issuer"] == oidc_provider.issuer
    assert "code" in document["response_types_supported"]


def test_smtp_server_receives_mail(smtp_server: SmtpServer) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "harness"
    message.set_content("hello")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.send_message(message)
    assert any(b"Subject: harness" in raw for raw in smtp_server.messages())


def test_nginx_is_installed(nginx_binary: str) -> None:
    result = subprocess.run([nginx_binary, "-v"], capture_output=True, text=True, check=False)
    assert "nginx" in result.stderr
