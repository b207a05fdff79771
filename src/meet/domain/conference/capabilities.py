"""What an SFU can do by itself; the domain asks, and does the rest itself or refuses clearly."""

from __future__ import annotations

from dataclasses import dataclass

from meet.domain.shared.errors import Conflict


@dataclass(frozen=True, slots=True)
class SfuCapabilities:
    """Declared by each SFU adapter.

    - ``identity_in_token``: the SFU binds a participant's identity to the token it joined with, so
      nobody appears under an identity they were not issued (else meet watches joins and removes impostors);
    - ``per_source_publish_grants``: the SFU refuses a source the token does not grant (else meet mutes it);
    - ``server_data_messages``: the server can send data messages to chosen participants (else knock
      notices reach admins through meet's own event stream only);
    - ``room_metadata``: the live room carries metadata the server sets (else clients read it from meet);
    - ``participant_attributes``: the server can rename participants and set their attributes live;
    - ``recording``: the SFU records rooms (else starting a recording is refused);
    - ``close_room``: the server can close a live room, disconnecting everyone (else ending a meeting
      removes each participant).
    """

    identity_in_token: bool
    per_source_publish_grants: bool
    server_data_messages: bool
    room_metadata: bool
    participant_attributes: bool
    recording: bool
    close_room: bool = False

    def require(self, capability: str) -> None:
        """Raise ``SfuCapabilityMissing`` naming ``capability`` unless the SFU has it."""
        if not getattr(self, capability):
            raise SfuCapabilityMissing(
                f"The media server in use cannot do this: it lacks the {capability!r} capability.",
                field=capability,
            )


class SfuCapabilityMissing(Conflict):
    default_message = "The media server in use cannot do this."
    code = "sfu_capability_missing"
