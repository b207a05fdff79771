"""Janus VideoRoom can record publishers to its own disk, not a composite to meet's bucket: no recordings."""

from __future__ import annotations

from meet.adapters.janus.sfu import JANUS_CAPABILITIES


class JanusRecordingEgress:
    """``RecordingEgress`` on Janus: refused, naming the capability (``StartRecording`` asks first anyway)."""

    async def start(self, room: str, *, object_key: str, audio_only: bool) -> str:  # noqa: ARG002 - the port's signature
        JANUS_CAPABILITIES.require("recording")
        raise AssertionError("unreachable: Janus declares no recording")

    async def stop(self, egress_id: str) -> None:  # noqa: ARG002 - the port's signature
        JANUS_CAPABILITIES.require("recording")
