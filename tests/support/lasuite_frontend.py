"""A build of La Suite Meet's frontend (unmodified) for the browser suite.

Found in this order: ``MEET_TEST_LASUITE_FRONTEND_DIR`` (a built ``dist/``); else a build made here with
``../shared/lasuite-frontend/build.sh`` (beside the project's root) into ``.cache/lasuite-frontend/``
(ignored by git), keyed by a hash of the sources so that a change of them rebuilds it, and reused
otherwise. When neither is possible, ``FrontendBuildMissing`` says what is missing and how to get it:
the suite fails, it never skips.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "lasuite-frontend"
CACHE = ROOT / ".cache" / "lasuite-frontend"
ENV_DIR = "MEET_TEST_LASUITE_FRONTEND_DIR"
BUILD_TIMEOUT_SECONDS = 900
MIN_NODE = 20
# What the build reads: the script and the app's sources, never what a build leaves behind.
_SKIPPED = {"node_modules", "dist", ".git"}


class FrontendBuildMissing(RuntimeError):
    """No build of the frontend, and no way to make one here."""


def sources_digest(shared: Path) -> str:
    """A hash of every file the build reads (paths and contents): a change of any rebuilds."""
    digest = hashlib.sha256()
    files = [shared / "build.sh", *sorted((shared / "frontend").rglob("*"))]
    for path in files:
        relative = path.relative_to(shared)
        if not path.is_file() or _SKIPPED.intersection(relative.parts):
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _node_major() -> int:
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout
    major = version.strip().lstrip("v").split(".")[0]
    return int(major) if major.isdigit() else 0


def _built(folder: Path) -> bool:
    return (folder / "index.html").is_file()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One build at a time, across processes (two suites started at once build it once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def find_frontend_build(
    environ: Mapping[str, str] | None = None, shared: Path = SHARED, cache: Path = CACHE, *, niceness: int = 0
) -> Path:
    """The folder of a built frontend (with its ``index.html``), building it once if needed.

    ``niceness``: run the build at that lower CPU priority (``nice -n``), as when it runs beside other tests.
    """
    if given := (os.environ if environ is None else environ).get(ENV_DIR):
        folder = Path(given)
        if not _built(folder):
            raise FrontendBuildMissing(
                f"{ENV_DIR}={given!r} has no index.html: point it at a built La Suite Meet frontend "
                f"(`{SHARED / 'build.sh'} OUTDIR` makes one), or unset it to build one from {SHARED}."
            )
        return folder
    script = shared / "build.sh"
    if not script.is_file():
        raise FrontendBuildMissing(
            f"The browser suite needs La Suite Meet's frontend, and neither exists: set {ENV_DIR} to a built "
            f"dist/ folder, or put the shared/ folder beside the project ({shared} with its build.sh and "
            "frontend/, La Suite Meet 1.27.0 unmodified), from which the suite builds it (node >= 20 and npm)."
        )
    if shutil.which("node") is None or shutil.which("npm") is None or _node_major() < MIN_NODE:
        raise FrontendBuildMissing(
            f"Building La Suite Meet's frontend ({script}) needs node >= {MIN_NODE} and npm (Debian 12's own "
            f"nodejs is 18: use NodeSource's nodejs 20 package), or set {ENV_DIR} to a build made elsewhere."
        )
    target = cache / sources_digest(shared) / "dist"
    with _locked(cache / "build.lock"):
        if _built(target):
            return target
        for stale in cache.iterdir():
            if stale.is_dir() and stale.name != "node_modules":
                shutil.rmtree(stale, ignore_errors=True)
        nice = ["nice", "-n", str(niceness)] if niceness and shutil.which("nice") else []
        result = subprocess.run(
            [*nice, "bash", str(script), str(target)],
            env={**os.environ, "LASUITE_NODE_MODULES": str(cache / "node_modules")},
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_SECONDS,
            check=False,
        )
        if result.returncode != 0 or not _built(target):
            raise FrontendBuildMissing(
                f"Building La Suite Meet's frontend with {script} failed (status {result.returncode}); "
                f"set {ENV_DIR} to a build made elsewhere, or fix the build:\n{result.stdout[-3000:]}"
                f"{result.stderr[-3000:]}"
            )
    return target


class BackgroundBuild:
    """``find_frontend_build`` in a thread of its own, at a low CPU priority, so that a build from scratch
    (a minute or two) runs while the rest of the suite does; ``result()`` waits for it and returns the
    folder, or raises what the build raised."""

    def __init__(self, niceness: int = 10) -> None:
        self._done = threading.Event()
        self._folder: Path | None = None
        self._error: BaseException | None = None
        thread = threading.Thread(target=self._run, args=(niceness,), name="lasuite-frontend-build", daemon=True)
        thread.start()

    def _run(self, niceness: int) -> None:
        try:
            self._folder = find_frontend_build(niceness=niceness)
        except BaseException as error:  # handed to whoever waits for the build
            self._error = error
        finally:
            self._done.set()

    def result(self) -> Path:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._folder is not None
        return self._folder
