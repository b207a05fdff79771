"""The scale-out settings refuse combinations that cannot work, naming the variable."""

from __future__ import annotations

import pytest

from meet.entrypoints.settings import SettingsError, load_settings


def test_a_cluster_without_a_seed_node_is_refused() -> None:
    with pytest.raises(SettingsError, match="MEET_REDIS_CLUSTER needs MEET_REDIS_URL"):
        load_settings({"MEET_REDIS_CLUSTER": "true"}, dotenv=None)


def test_pgbouncer_without_postgresql_is_refused() -> None:
    with pytest.raises(SettingsError, match="MEET_DATABASE_PGBOUNCER needs a PostgreSQL"):
        load_settings({"MEET_DATABASE_PGBOUNCER": "true"}, dotenv=None)


def test_both_are_accepted_with_what_they_need() -> None:
    settings = load_settings(
        {
            "MEET_REDIS_URL": "rediss://node-1:6379",
            "MEET_REDIS_CLUSTER": "true",
            "MEET_DATABASE_URL": "postgresql+asyncpg://meet@pgbouncer:6432/meet",
            "MEET_DATABASE_PGBOUNCER": "true",
        },
        dotenv=None,
    )
    assert settings.redis_cluster
    assert settings.database_pgbouncer
