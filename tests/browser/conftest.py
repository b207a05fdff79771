"""La Suite Meet's frontend, unmodified, in headless Chromium, against a real ``meet serve``.

One ``meet serve`` process and one browser for the session (PostgreSQL, Redis and the OIDC provider are
the harness's real processes; LiveKit's server API is the wire-level double, since a real LiveKit server
cannot run on these machines); one browser context per person in a test, so cookies never leak between
tests or people. Each step a test names is screenshotted; the screenshots of a failed test are kept in
``test-artifacts/browser/<test>/`` (ignored by git), those of a passing one are removed.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from livekit.api import TokenVerifier
from livekit.api.access_token import Claims
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    WebSocketRoute,
    expect,
    sync_playwright,
)

from tests.support.lasuite_frontend import ROOT, BackgroundBuild, FrontendBuildMissing, find_frontend_build
from tests.support.livekit_server import LiveKitServer
from tests.support.served import Served, serve
from tests.support.services import S3, OidcProvider, Postgres, Redis, ServiceNotFound

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # The prejoin page asks for a camera and a microphone: Chromium's fake ones, granted without a prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DOCS_IMAGES = ROOT / "docs" / "images"
DOCS_SCREENSHOTS_ENV = "MEET_TEST_DOCS_SCREENSHOTS"
STEP_TIMEOUT_MS = 15_000
TEST_TIMEOUT_SECONDS = 120
RECORDINGS_BUCKET = "meet-browser-recordings"
STORAGE_HOOK_TOKEN = "browser-storage-hook-token-0123456789"
FRONTEND_BUILD = pytest.StashKey[BackgroundBuild]()
SIGNED_OUT_PROBE = re.compile(
    r"^Failed to load resource: .* status of 401 \(Unauthorized\) \(https?://[^/]+/api/v1\.0/users/me\)$"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The browser tests run last, and their time limit covers each test's own steps only.

    Last: Playwright's sync API holds its event loop as the thread's running loop from the first browser
    test until the session ends, and an asyncio test run meanwhile could not start its own. The time
    limit: building the frontend (once, about a minute, more on a loaded machine) and starting
    ``meet serve`` are the session's set-up, with limits of their own. The build starts now, in the
    background at a low CPU priority, when a chosen test needs it: it runs while the other tests do,
    instead of after them.
    """
    here = Path(__file__).parent
    browser = [item for item in items if here in Path(str(item.fspath)).parents]
    for item in browser:
        item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_SECONDS, func_only=True))
    chosen = {id(item) for item in browser}
    items[:] = [item for item in items if id(item) not in chosen] + browser
    if FRONTEND_BUILD not in config.stash and any(
        "frontend_build" in getattr(item, "fixturenames", ()) for item in browser
    ):
        config.stash[FRONTEND_BUILD] = BackgroundBuild()


@pytest.fixture(scope="session")
def frontend_build(pytestconfig: pytest.Config) -> Path:
    started = pytestconfig.stash.get(FRONTEND_BUILD, None)
    try:
        return started.result() if started is not None else find_frontend_build()
    except FrontendBuildMissing as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def browser_database(postgres_server: Postgres) -> Iterator[str]:
    """A database of the browser suite's own, dropped at the end of the session."""
    name = f"meet_browser_{uuid.uuid4().hex[:10]}"

    async def run(statement: str) -> None:
        connection = await asyncpg.connect(
            host=postgres_server.host,
            port=postgres_server.port,
            user=postgres_server.user,
            password=postgres_server.password or None,
            database=postgres_server.database,
        )
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    yield postgres_server.url(name)
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def meet(
    frontend_build: Path,
    browser_database: str,
    redis_server: Redis,
    oidc_provider: OidcProvider,
    livekit_server: LiveKitServer,
    s3_service: S3,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    """``MEET_FRONTEND_DIR=<build> meet serve`` with La Suite Meet's API surface on."""
    folder = tmp_path_factory.mktemp("meet-browser")
    s3_service.create_bucket(RECORDINGS_BUCKET)
    try:
        with serve(
            folder,
            log=folder / "meet.log",
            data_dir=str(folder / "var"),
            database_url=browser_database,
            redis_url=redis_server.url,
            oidc_issuer=oidc_provider.issuer,
            oidc_client_id=oidc_provider.client_id,
            oidc_client_secret=oidc_provider.client_secret,
            livekit_url=livekit_server.url,
            livekit_api_key=livekit_server.api_key,
            livekit_api_secret=livekit_server.api_secret,
            s3_endpoint_url=s3_service.endpoint_url,
            s3_access_key=s3_service.access_key,
            s3_secret_key=s3_service.secret_key,
            s3_bucket=RECORDINGS_BUCKET,
            storage_hook_token=STORAGE_HOOK_TOKEN,
            frontend_dir=str(frontend_build),
            lasuite_api="true",
            # Plain http on 127.0.0.1: the cookies cannot be Secure here.
            cookie_secure="false",
        ) as served:
            yield served
    except ServiceNotFound as error:
        log = folder / "meet.log"
        pytest.fail(f"{error}\n{log.read_text() if log.exists() else ''}", pytrace=False)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"The browser suite drives Debian's Chromium at {CHROMIUM}: `apt-get install chromium` "
            "(`make system-packages` does it). Playwright's own browser download is never used.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
    yield browser
    browser.close()


@dataclass(frozen=True)
class Connection:
    """A LiveKit connection the app opened: the URL it dialled and what its token grants."""

    url: str
    claims: Claims

    @property
    def room(self) -> str:
        return self.claims.video.room if self.claims.video else ""

    @property
    def identity(self) -> str:
        return self.claims.identity

    @property
    def attributes(self) -> dict[str, str]:
        return dict(self.claims.attributes or {})


@dataclass
class Person:
    """One person's browser (a context of its own) and its one page; what went wrong on it is kept, and
    every LiveKit connection its app opens is held here (no LiveKit server can run on these machines, so
    the WebSocket is answered by the test, never by a server: the connection is asserted up to the URL
    and token the app dials)."""

    name: str
    context: BrowserContext
    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)

    def connection(self) -> Connection:
        """The first LiveKit connection the app opens (waits for it)."""
        deadline = STEP_TIMEOUT_MS
        while not self.connections and deadline > 0:
            self.page.wait_for_timeout(100)
            deadline -= 100
        assert self.connections, f"{self.name}'s app opened no LiveKit connection"
        return self.connections[0]

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A request from the app's own page (same origin, its cookies), as the app's ``fetchApi`` sends one."""
        result = self.page.evaluate(
            """async ([method, path, body]) => {
                const response = await fetch(path, {
                    method, credentials: "include",
                    headers: body === null ? {} : {"Content-Type": "application/json"},
                    body: body === null ? undefined : JSON.stringify(body),
                });
                const text = await response.text();
                return [response.status, text ? JSON.parse(text) : null];
            }""",
            [method, path, body],
        )
        return int(result[0]), result[1]

    def csp_violations(self) -> list[str]:
        """What the app's Content-Security-Policy blocked: Chromium reports each block on the console
        ("... violates the following Content Security Policy directive ...")."""
        return [text for text in self.console_errors if "Content Security Policy" in text]

    def problems(self) -> list[str]:
        """Console errors and uncaught exceptions, but for the one answer the app expects to fail: Chromium
        logs every non-2xx fetch as a console error, and ``users/me`` answering 401 is how the app learns
        that nobody is signed in (CALLS.md, call 2)."""
        return [
            *(f"console: {text}" for text in self.console_errors if not SIGNED_OUT_PROBE.search(text)),
            *(f"page: {error}" for error in self.page_errors),
        ]


@dataclass
class Session:
    """The people of one test, and its numbered step screenshots."""

    meet: Served
    browser: Browser
    folder: Path
    livekit: LiveKitServer
    oidc: OidcProvider
    people: list[Person] = field(default_factory=list)
    steps: int = 0

    def person(self, name: str, *, locale: str = "en-US") -> Person:
        context = self.browser.new_context(
            base_url=self.meet.base_url,
            locale=locale,
            viewport={"width": 1280, "height": 800},
            permissions=["camera", "microphone"],
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        page = context.new_page()
        person = Person(name=name, context=context, page=page)
        verifier = TokenVerifier(self.livekit.api_key, self.livekit.api_secret)

        def on_livekit(socket: WebSocketRoute) -> None:
            token = parse_qs(urlsplit(socket.url).query).get("access_token", [""])[0]
            person.connections.append(Connection(url=socket.url, claims=verifier.verify(token)))

        page.route_web_socket(re.compile("^" + re.escape(self.livekit.url) + "/"), on_livekit)

        def on_console(message: ConsoleMessage) -> None:
            # Only the app's pages: the identity provider's own sign-in page is not under test.
            if message.type == "error" and page.url.startswith(self.meet.base_url):
                person.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: person.page_errors.append(str(error)))
        self.people.append(person)
        return person

    def sign_in(self, person: Person, sub: str, full_name: str) -> None:
        """Through the app's own "Login" link and the provider's form, as a person signs in."""
        httpx.put(f"{self.oidc.issuer}/users/{sub}", json={"name": full_name, "email": f"{sub}@example.org"})
        page = person.page
        page.goto("/")
        page.get_by_role("link", name="Login").click()
        page.locator("input[name=sub]").fill(sub)
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(f"{self.meet.base_url}/")
        expect(page.get_by_role("button", name=full_name).first).to_be_visible()

    def docs_screenshot(self, person: Person, name: str) -> None:
        """With ``MEET_TEST_DOCS_SCREENSHOTS=1``, (re)write ``docs/images/<name>.png`` from this page: the
        docs show what the suite saw, and an ordinary run leaves the working tree alone."""
        if os.environ.get(DOCS_SCREENSHOTS_ENV) == "1":
            person.page.screenshot(path=str(DOCS_IMAGES / f"{name}.png"))

    def step(self, name: str, *people: Person) -> None:
        """Screenshot every page (or ``people``'s) at a named step of the flow."""
        self.steps += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        for person in people or tuple(self.people):
            slug = re.sub(r"[^a-z0-9]+", "-", f"{name} {person.name}".lower()).strip("-")
            person.page.screenshot(path=str(self.folder / f"{self.steps:02d}-{slug}.png"))

    def close(self) -> None:
        for person in self.people:
            person.context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def session(
    request: pytest.FixtureRequest,
    meet: Served,
    browser: Browser,
    livekit_server: LiveKitServer,
    oidc_provider: OidcProvider,
) -> Iterator[Session]:
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    session = Session(meet=meet, browser=browser, folder=folder, livekit=livekit_server, oidc=oidc_provider)
    yield session
    report = getattr(request.node, "report_call", None)
    failed = report is None or report.failed
    if failed:
        for person in session.people:
            if not person.page.is_closed():
                session.step("at failure", person)
    session.close()
    if not failed:
        shutil.rmtree(folder, ignore_errors=True)
