"""Pytest fixtures over the real backing services found by tests/support/services.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tests.support.pgbouncer import PgBouncer, start_pgbouncer
from tests.support.redis_cluster import RedisClusterServer, start_local_redis_cluster, start_redis_cluster
from tests.support.services import (
    S3,
    LocalPostgres,
    NodeOidcProvider,
    OidcProvider,
    Postgres,
    Redis,
    ServiceNotFound,
    SmtpServer,
    find_nginx,
    start_local_postgres,
    start_local_redis,
    start_node_oidc_provider,
    start_oidc_provider,
    start_postgres,
    start_redis,
    start_s3,
    start_smtp,
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    try:
        with start_postgres() as server:
            yield server
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: Postgres) -> str:
    return postgres_server.url()


@pytest.fixture
async def fresh_postgres_database(postgres_server: Postgres) -> AsyncIterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    name = f"meet_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(
        host=postgres_server.host,
        port=postgres_server.port,
        user=postgres_server.user,
        password=postgres_server.password or None,
        database=postgres_server.database,
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield postgres_server.url(name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    try:
        with start_redis() as server:
            yield server
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def redis_url(redis_server: Redis) -> str:
    return redis_server.url


@pytest.fixture
def disposable_postgres() -> Iterator[LocalPostgres]:
    """A PostgreSQL only this test uses, so it can simulate an outage (stop/start on the same port)."""
    try:
        with start_local_postgres() as server:
            yield server
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def disposable_redis() -> Iterator[Redis]:
    """A Redis only this test uses, so it can simulate an outage (stop/start on the same port)."""
    try:
        with start_local_redis() as server:
            yield server
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def s3_service() -> Iterator[S3]:
    try:
        with start_s3() as server:
            yield server
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    try:
        with start_oidc_provider() as provider:
            yield provider
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def node_oidc_provider() -> Iterator[NodeOidcProvider]:
    try:
        with start_node_oidc_provider() as provider:
            yield provider
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    try:
        with start_smtp() as server:
            yield server
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    try:
        return find_nginx()
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterServer]:
    """A Redis Cluster (three masters, one replica each) shared by the session: never kill its nodes."""
    try:
        with start_redis_cluster() as cluster:
            yield cluster
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def redis_cluster_url(redis_cluster: RedisClusterServer) -> str:
    return redis_cluster.url


@pytest.fixture
def disposable_redis_cluster() -> Iterator[RedisClusterServer]:
    """A Redis Cluster only this test uses, with a short node timeout, so it can kill a master."""
    try:
        with start_local_redis_cluster(node_timeout_ms=1500) as cluster:
            yield cluster
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def pgbouncer(postgres_server: Postgres) -> Iterator[PgBouncer]:
    """PgBouncer in transaction pooling mode in front of the session's PostgreSQL."""
    try:
        with start_pgbouncer(postgres_server) as bouncer:
            yield bouncer
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)
