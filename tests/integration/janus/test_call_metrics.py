"""Every call to Janus's Admin API is counted by operation and outcome, against a real Janus."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from meet.adapters.janus.client import JanusAdmin, JanusServer
from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.domain.conference.errors import SfuRequestFailed, SfuUnavailable
from tests.support.janus import Janus
from tests.support.services import free_port


def calls(metrics: PrometheusMetrics) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["operation"], sample.labels["outcome"]): sample.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for sample in family.samples
        if sample.name == "meet_sfu_calls_total" and sample.labels["sfu"] == "janus"
    }


async def test_janus_calls_are_counted_with_their_outcome(janus: Janus) -> None:
    metrics = PrometheusMetrics()
    right = JanusServer(admin_url=janus.admin_url, admin_secret=janus.admin_secret, admin_key=janus.admin_key)
    wrong = JanusServer(admin_url=janus.admin_url, admin_secret="not-the-secret", admin_key=janus.admin_key)
    absent = JanusServer(admin_url=f"http://127.0.0.1:{free_port()}/admin", admin_secret="x", admin_key="x")
    clients = [JanusAdmin(server, observer=metrics) for server in (right, wrong, absent)]
    try:
        await clients[0].call("list_sessions", operation="list_sessions")
        with pytest.raises(SfuRequestFailed):
            await clients[1].call("list_sessions", operation="list_sessions")
        with pytest.raises(SfuUnavailable):
            await clients[2].call("list_sessions", operation="list_sessions")
    finally:
        for client in clients:
            await client.aclose()
    assert calls(metrics) == {
        ("list_sessions", "ok"): 1,
        ("list_sessions", "refused"): 1,
        ("list_sessions", "unavailable"): 1,
    }
