"""A Janus client as a browser would be one, over Janus's HTTP API: session, VideoRoom handle, join, publish.

Publishing sends a real WebRTC offer made by aiortc (audio and video tracks). Janus on this machine only
gathers ICE candidates on non-loopback interfaces, which the tests must not use, so the media path never
comes up; everything the signalling does (streams, mids, moderation, events) is real.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

VIDEOROOM = "janus.plugin.videoroom"


LONG_POLL_SECONDS = 40.0


class JanusError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass
class JanusParticipant:
    """One browser's session and VideoRoom handle; ``token`` is the core token it holds."""

    url: str
    token: str
    http: httpx.AsyncClient
    session: int = 0
    handle: int = 0
    pending: list[dict[str, Any]] = field(default_factory=list)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = {"transaction": secrets.token_hex(8), "token": self.token, **body}
        answer: dict[str, Any] = (await self.http.post(self.url + path, json=request)).json()
        if answer.get("janus") == "error":
            raise JanusError(int(answer["error"]["code"]), str(answer["error"].get("reason")))
        return answer

    async def connect(self, *, opaque_id: str | None = None) -> None:
        self.session = int((await self._post("", {"janus": "create"}))["data"]["id"])
        attach: dict[str, Any] = {"janus": "attach", "plugin": VIDEOROOM}
        if opaque_id is not None:
            attach["opaque_id"] = opaque_id
        self.handle = int((await self._post(f"/{self.session}", attach))["data"]["id"])

    async def events(self, *, wait: float = 5.0) -> list[dict[str, Any]]:
        """Long-poll the session's events (up to ``wait`` seconds for at least one)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            # Janus holds a long poll up to 30 s before answering a keep-alive: wait longer than that, so a
            # quiet moment (or a slow machine) is an empty answer, never a client-side timeout.
            response = await self.http.get(
                f"{self.url}/{self.session}",
                params={"token": self.token, "maxev": 10, "rid": secrets.token_hex(4)},
                timeout=LONG_POLL_SECONDS,
            )
            answer = response.json()
            batch = answer if isinstance(answer, list) else [answer]
            real = [e for e in batch if e.get("janus") != "keepalive"]
            if real:
                return real
        return []

    async def request(self, body: dict[str, Any], *, jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        """A VideoRoom request; asynchronous ones are awaited on the event long-poll. Returns the plugin data
        (and the JSEP, under ``"jsep"``) or raises ``JanusError`` with VideoRoom's ``error_code``."""
        message: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            message["jsep"] = jsep
        answer = await self._post(f"/{self.session}/{self.handle}", message)
        if answer.get("janus") == "ack":
            transaction = answer["transaction"]
            deadline = time.monotonic() + 10
            answer = {}
            while not answer and time.monotonic() < deadline:
                for event in [*self.pending, *await self.events()]:
                    if event.get("transaction") == transaction and not answer:
                        answer = event
                    elif event not in self.pending:
                        self.pending.append(event)
                self.pending = [e for e in self.pending if e is not answer]
        data: dict[str, Any] = dict(answer.get("plugindata", {}).get("data", {}))
        if "error_code" in data:
            raise JanusError(int(data["error_code"]), str(data.get("error")))
        if "jsep" in answer:
            data["jsep"] = answer["jsep"]
        return data

    async def join(self, room: str, identity: str, *, join_token: str | None, display: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {"request": "join", "ptype": "publisher", "room": room, "id": identity}
        if display:
            body["display"] = display
        if join_token is not None:
            body["token"] = join_token
        return await self.request(body)

    async def publish(self, *, descriptions: dict[str, str] | None = None) -> dict[str, Any]:
        """Offer audio and video (aiortc) and publish them; returns the ``configured`` answer."""
        offer = await _aiortc_offer()
        body: dict[str, Any] = {"request": "publish"}
        if descriptions:
            body["descriptions"] = [{"mid": mid, "description": text} for mid, text in descriptions.items()]
        return await self.request(body, jsep={"type": "offer", "sdp": offer})

    async def moderation(self, *, expect: int, wait: float = 10.0) -> dict[str, str]:
        """The moderation Janus told this participant about, by mid (``"muted"`` / ``"unmuted"``)."""
        seen: dict[str, str] = {}
        deadline = time.monotonic() + wait
        while len(seen) < expect and time.monotonic() < deadline:
            batch, self.pending = [*self.pending, *await self.events(wait=1)], []
            for event in batch:
                data = event.get("plugindata", {}).get("data", {})
                if "moderation" in data:
                    seen[str(data["mid"])] = str(data["moderation"])
        return seen

    async def close(self) -> None:
        if self.session:
            with contextlib.suppress(JanusError, httpx.HTTPError):  # already gone (kicked, expired)
                await self._post(f"/{self.session}", {"janus": "destroy"})


async def _aiortc_offer() -> str:
    import aioice.ice  # noqa: PLC0415 - heavy, only for tests that publish
    from aiortc import RTCPeerConnection  # noqa: PLC0415
    from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack  # noqa: PLC0415

    # Loopback only: aioice leaves 127.0.0.1 out of its host candidates unless told otherwise.
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]  # noqa: ARG005
    connection = RTCPeerConnection()
    try:
        connection.addTrack(AudioStreamTrack())
        connection.addTrack(VideoStreamTrack())
        await connection.setLocalDescription(await connection.createOffer())
        return str(connection.localDescription.sdp)
    finally:
        await connection.close()
