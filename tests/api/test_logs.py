"""Logs of a served process: one JSON object per line, request ids, no secret; metrics across workers."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.served import MEET, clean_env, serve
from tests.support.services import free_port, wait_for_port

STARTUP_SECONDS = 120  # as serve(): a loaded 2-core machine starts slowly; the wait ends once it answers
SECRETS: dict[str, str] = {
    "secret_key": "secret-key-that-must-not-be-logged-0123456789",
    "livekit_api_secret": "livekit-secret-that-must-not-be-logged-0123",
    "storage_hook_token": "hook-token-that-must-not-be-logged-0123456",
    "metrics_token": "metrics-token-that-must-not-be-logged-01234",
}


def test_json_logs_are_one_object_per_line_with_the_request_id_and_no_secret(tmp_path: Path) -> None:
    with serve(
        tmp_path,
        log_format="json",
        livekit_api_key="operator",
        secret_key=SECRETS["secret_key"],
        livekit_api_secret=SECRETS["livekit_api_secret"],
        storage_hook_token=SECRETS["storage_hook_token"],
        metrics_token=SECRETS["metrics_token"],
    ) as running:
        base = running.base_url
        answered = httpx.get(f"{base}/api/v1/rooms/hello", headers={"X-Request-ID": "client-chosen-id-1"})
        assert answered.headers["x-request-id"] == "client-chosen-id-1"
        generated = httpx.get(f"{base}/api/v1/rooms/world").headers["x-request-id"]
        assert httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        hook = httpx.post(f"{base}/api/v1/recordings/storage-hook", headers={"Authorization": "Bearer guess"}, json={})
        assert hook.status_code in {401, 403}
        running.process.terminate()
        running.process.wait(timeout=30)
        output = running.output()

    records = [json.loads(line) for line in output.splitlines() if line.strip()]  # every line parses
    assert records
    for record in records:
        assert {"timestamp", "level", "logger", "message"} <= set(record), record
    with_id = [record for record in records if record.get("request_id") == "client-chosen-id-1"]
    assert any("/api/v1/rooms/hello" in record["message"] for record in with_id), records
    assert any(
        record.get("request_id") == generated and "/api/v1/rooms/world" in record["message"] for record in records
    )
    for name, secret in SECRETS.items():
        assert secret not in output, name


def test_the_metrics_of_every_worker_add_up_whichever_answers(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [MEET, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=clean_env(MEET_DATA_DIR=str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, process=process, timeout=STARTUP_SECONDS)
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/healthz", timeout=5).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        for _ in range(20):  # a new connection each time: uvicorn's workers share the listening socket
            assert httpx.get(f"{base}/api/v1/config", timeout=5).status_code == 200
        for _ in range(4):
            text = httpx.get(f"{base}/metrics", timeout=5).text
            counts = {
                sample.labels["status"]: sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == "meet_http_requests_total" and sample.labels["route"] == "/api/v1/config"
            }
            assert counts == {"200": 20}
    finally:
        process.terminate()
        process.wait(timeout=30)
