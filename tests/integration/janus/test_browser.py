"""A real browser on Janus with meet's connection: headless Chromium and Janus's own JavaScript library."""

from __future__ import annotations

from tests.support.janus_browser import run_browser_check


def test_chromium_with_janus_js_joins_with_meets_connection_and_publishes_a_fake_camera() -> None:
    result = run_browser_check(timeout=60)

    assert result["ok"], f"the browser did not get media up: {result}"
    assert result["outbound_bytes"] > 0, "the peer connection is up but sent nothing"
    # Janus sees the participant under meet's identity, publishing both tracks the page offered.
    assert result["listed"] == [{"identity": "browser-sub", "tracks": ["microphone", "camera"]}]
    assert [event["id"] for event in result["published_events"]] == ["browser-sub"]
