"""Repeated knocking: what a block of a participant, an account or a client address is called among the
room's bars.

A block is a bar (``BarReason.BLOCKED``, through the one bars port, so it survives a cache restart) on an
identity of its own, distinct from the participant's SFU identity: a knock's gate tells a block
(``lobby_blocked``) from a denial's short bar, and an address is never mistaken for an SFU identity.
"""

from __future__ import annotations

from collections.abc import Iterable

PARTICIPANT_BLOCK = "blocked:"
ADDRESS_BLOCK = "address:"


def participant_block(identity: str) -> str:
    return f"{PARTICIPANT_BLOCK}{identity}"


def address_block(address: str) -> str:
    return f"{ADDRESS_BLOCK}{address}"


def blocks_for(identities: Iterable[str], address: str | None) -> tuple[str, ...]:
    """The blocks that refuse a knock speaking for ``identities`` from ``address``."""
    blocks = [participant_block(identity) for identity in identities]
    if address:
        blocks.append(address_block(address))
    return tuple(blocks)


def denial_subjects(participant_id: str, address: str | None) -> tuple[str, ...]:
    """What a denial is counted against: the participant, and the address it knocked from (when known);
    each is blocked, under the same name, once denied too often."""
    return blocks_for((participant_id,), address)
