from __future__ import annotations

from datetime import timedelta

from livekit.api import AccessToken, VideoGrants

from meet.domain.conference.model import ConnectionConfig, Participant, ParticipantGrants


def video_grants(grants: ParticipantGrants) -> VideoGrants:
    """Map the neutral grants onto LiveKit's, minding its defaults.

    LiveKit defaults ``can_publish`` to true and reads an empty ``can_publish_sources`` as
    "every source", so a participant who may not publish gets ``can_publish=False`` spelled
    out. Server-wide grants (room_create, room_list, room_record) stay unset.
    """
    return VideoGrants(
        room_join=True,
        room=grants.room,
        room_admin=grants.room_admin,
        can_publish=grants.can_publish,
        can_publish_sources=[source.value for source in grants.publish_sources],
        can_subscribe=grants.can_subscribe,
        can_publish_data=grants.can_publish_data,
        can_update_own_metadata=False,
    )


class LiveKitTokenIssuer:
    def __init__(self, *, url: str, api_key: str, api_secret: str, ttl: timedelta) -> None:
        self._url = url
        self._api_key = api_key
        self._api_secret = api_secret
        self._ttl = ttl

    def connection_for(self, participant: Participant, grants: ParticipantGrants) -> ConnectionConfig:
        token = (
            AccessToken(self._api_key, self._api_secret)
            .with_identity(participant.identity)
            .with_name(participant.name)
            .with_attributes(participant.attributes)
            .with_grants(video_grants(grants))
            .with_ttl(self._ttl)
            .to_jwt()
        )
        return ConnectionConfig(url=self._url, room=grants.room, token=token)
