"""Headless Chromium, with Janus's own JavaScript library, joins a room with meet's connection and publishes.

Janus gathers ICE candidates only on interfaces that are not loopback, and the tests may use no address
outside 127.0.0.0/8. So the check runs in a network namespace of its own (``ip netns``, root only):
there, a veth pair carries 127.0.0.2, which Janus may gather on, and everything (Janus, the page server,
Chromium) talks over that namespace's own loopback. ``run_browser_check()`` makes the namespace, runs
this module inside it (``python -m tests.support.janus_browser``), deletes the namespace and returns
what the module printed: one JSON object.

Inside, the module starts Janus (``tests.support.janus``), lets meet's adapters create the room and issue
the connection, serves a page loading ``/usr/share/javascript/janus-gateway/janus.js`` (Debian's
libjs-janus-gateway) and ``webrtc-adapter``, and waits for the page to report; then it asks Janus, through
meet's ``JanusSfu``, whether the participant is publishing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from meet.domain.rooms.model import SfuRoomName

JANUS_JS = Path("/usr/share/javascript/janus-gateway/janus.js")
ADAPTER_JS = Path("/usr/share/javascript/webrtc-adapter/adapter.js")
ICE_ADDRESS = "127.0.0.2"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>meet on Janus</title>
</head>
<body><video id="me" autoplay muted playsinline></video><pre id="log"></pre>
<script>
const connection = __CONNECTION__;
const log = (line) => { document.getElementById("log").textContent += line + "\\n"; };
const report = (result) => fetch("/result", {method: "POST", body: JSON.stringify(result)});
// Before the libraries, so that an error while one of them runs is reported with its own message.
window.onerror = (message) => report({ok: false, stage: "page", error: String(message)});
// A library that did not arrive is asked for again (twice at most), and said so if it never does:
// the page's own server is not what this test is about.
const load = (src, tries) => new Promise((resolve, reject) => {
  const script = document.createElement("script");
  script.src = src + "?try=" + tries;
  script.onload = resolve;
  script.onerror = () => (tries > 1 ? load(src, tries - 1).then(resolve, reject)
                                    : reject(new Error("could not load " + src)));
  document.head.appendChild(script);
});
load("/adapter.js", 3).then(() => load("/janus.js", 3)).then(start, (error) =>
  report({ok: false, stage: "load", error: String(error)}));
function start() {
Janus.init({debug: false, callback: () => {
  const janus = new Janus({
    server: connection.url, token: connection.token,
    error: (error) => report({ok: false, stage: "session", error: String(error)}),
    success: () => janus.attach({
      plugin: "janus.plugin.videoroom", opaqueId: connection.token,
      error: (error) => report({ok: false, stage: "attach", error: String(error)}),
      success: (handle) => {
        log("attached");
        handle.send({message: {request: "join", ptype: "publisher", room: connection.room,
                               id: connection.identity, token: connection.join_token}});
        window.handle = handle;
      },
      onmessage: (message, jsep) => {
        if (message.error_code) { report({ok: false, stage: "join", error: message.error_code}); return; }
        if (message.videoroom === "joined") {
          log("joined as " + message.id);
          window.handle.createOffer({
            tracks: [{type: "audio", capture: true, recv: false}, {type: "video", capture: true, recv: false}],
            success: (offer) => window.handle.send({message: {request: "publish",
              descriptions: [{mid: "1", description: "camera"}]}, jsep: offer}),
            error: (error) => report({ok: false, stage: "offer", error: String(error)}),
          });
        }
        if (jsep) { window.handle.handleRemoteJsep({jsep: jsep}); }
      },
      onlocaltrack: (track, on) => { if (on && track.kind === "video") {
        document.getElementById("me").srcObject = new MediaStream([track]); } },
      webrtcState: (up, reason) => {
        log("webrtc " + up);
        if (up) {
          setTimeout(async () => {
            const stats = await window.handle.webrtcStuff.pc.getStats();
            let bytes = 0;
            stats.forEach((s) => { if (s.type === "outbound-rtp") { bytes += s.bytesSent || 0; } });
            report({ok: true, stage: "webrtcup", outbound_bytes: bytes});
          }, 2000);
        } else { report({ok: false, stage: "webrtc", error: String(reason)}); }
      },
    }),
  });
}});
}
</script></body></html>
"""


def _page_server(page: str, report: Callable[[dict[str, Any]], None]) -> ThreadingHTTPServer:
    files = {"/": ("text/html", page.encode()), "/janus.js": ("text/javascript", JANUS_JS.read_bytes())}
    files["/adapter.js"] = ("text/javascript", ADAPTER_JS.read_bytes())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            content_type, body = files.get(path, ("text/plain", b""))
            self.send_response(200 if path in files else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            report(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - the base class signature
            return

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


async def _check(within: float) -> dict[str, Any]:
    from meet.adapters.janus.client import JanusAdmin, JanusServer  # noqa: PLC0415
    from meet.adapters.janus.sfu import JanusSfu  # noqa: PLC0415
    from meet.adapters.janus.tokens import JanusTokenIssuer, JanusTokens, JanusTokenSigner  # noqa: PLC0415
    from meet.domain.conference.model import Participant, ParticipantGrants  # noqa: PLC0415
    from meet.domain.rooms.model import DEFAULT_SOURCES  # noqa: PLC0415
    from tests.support.janus import plugin_event, start_janus  # noqa: PLC0415

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return {"ok": False, "stage": "setup", "error": "chromium is not installed (apt-get install chromium)"}
    with start_janus() as janus:
        tokens = JanusTokens(JanusTokenSigner(janus.token_secret), timedelta(minutes=10))
        admin = JanusAdmin(
            JanusServer(admin_url=janus.admin_url, admin_secret=janus.admin_secret, admin_key=janus.admin_key)
        )
        sfu = JanusSfu(admin, tokens, room_secret_key=os.urandom(32))
        room = f"browser-{uuid.uuid4().hex[:8]}"
        await sfu.ensure_room(room)
        participant = Participant.build(
            identity="browser-sub", requested_name="Browser", full_name=None, role=None, is_authenticated=True
        )
        grants = ParticipantGrants(room=SfuRoomName(room), room_admin=False, publish_sources=DEFAULT_SOURCES)
        connection = JanusTokenIssuer(url=janus.url, tokens=tokens).connection_for(participant, grants)
        payload = {
            "url": connection.url,
            "room": connection.room,
            "token": connection.token,
            "identity": connection.identity,
            "join_token": connection.join_token,
        }
        loop = asyncio.get_running_loop()
        reported: asyncio.Future[dict[str, Any]] = loop.create_future()

        def settle(result: dict[str, Any]) -> None:
            if not reported.done():
                reported.set_result(result)

        def report(result: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(settle, result)

        server = _page_server(PAGE.replace("__CONNECTION__", json.dumps(payload)), report)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        profile = tempfile.mkdtemp(prefix="meet-chromium-")
        page = f"http://127.0.0.1:{server.server_address[1]}/"
        browser = await asyncio.create_subprocess_exec(
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            page,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            try:
                result = dict(await asyncio.wait_for(asyncio.shield(reported), within))
            except TimeoutError:
                result = {"ok": False, "stage": "timeout", "error": f"the page reported nothing in {within} s"}
            live = await sfu.list_participants(room)
            result["listed"] = [{"identity": p.identity, "tracks": [t.source for t in p.tracks]} for p in live]
            published = [plugin_event(e) for e in janus.events.events() if plugin_event(e).get("event") == "published"]
            result["published_events"] = [{"id": e.get("id"), "room": e.get("room")} for e in published]
            return result
        finally:
            browser.terminate()
            try:
                await asyncio.wait_for(browser.wait(), 10)
            except TimeoutError:
                browser.kill()
                await browser.wait()
            server.shutdown()
            await admin.aclose()
            shutil.rmtree(profile, ignore_errors=True)


@contextlib.contextmanager
def _namespace() -> Iterator[str]:
    name = f"meet-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        for command in (
            "ip link set lo up",
            "ip link add v0 type veth peer name v1",
            f"ip addr add {ICE_ADDRESS}/32 dev v0",
            "ip link set v0 up",
            "ip link set v1 up",
        ):
            subprocess.run(["ip", "netns", "exec", name, *command.split()], check=True, capture_output=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)


def run_browser_check(timeout: float = 60.0) -> dict[str, Any]:
    """Run the check in a network namespace of its own; the JSON it printed."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return {"ok": False, "stage": "setup", "error": "the browser check needs root and iproute2 (ip netns)"}
    with _namespace() as namespace:
        env = {**os.environ, "MEET_TEST_JANUS_ICE_ADDRESS": ICE_ADDRESS, "PYTHONPATH": os.getcwd()}
        env.pop("MEET_TEST_JANUS_URL", None)  # a Janus outside the namespace could not reach its candidates
        done = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-m", "tests.support.janus_browser", str(timeout)],
            capture_output=True,
            text=True,
            timeout=timeout + 60,
            env=env,
            check=False,
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"ok": False, "stage": "process", "error": done.stderr[-2000:]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_check(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0))))
