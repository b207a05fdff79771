"""What the application counts about itself, as ports: adapters report, a metrics adapter records.

Nothing here knows how the figures are kept or exposed; a deployment without metrics uses ``IGNORED``.
"""

from __future__ import annotations

from typing import Protocol


class CallObserver(Protocol):
    """Told of every call to a backing service's API once it ends (``outcome``: ok, refused, unavailable...)."""

    def call_ended(self, service: str, operation: str, outcome: str, seconds: float) -> None: ...


class _Ignored:
    def call_ended(self, service: str, operation: str, outcome: str, seconds: float) -> None:  # noqa: ARG002
        return None


IGNORED: CallObserver = _Ignored()
