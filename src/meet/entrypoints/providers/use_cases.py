"""The use cases of every context, with the policies they take from settings. They hold no request
state (the caller comes in each request), so each exists once per process."""

from __future__ import annotations

from collections.abc import Sequence

from dishka import AnyOf, Provider, Scope, provide, provide_all

from meet.adapters.jose.access_tokens import TOKEN_AUDIENCE, JoseAccessTokens
from meet.adapters.jose.assertions import JoseAssertionVerifier
from meet.domain.applications.bearer import AuthenticateBearer
from meet.domain.applications.ports import AccessTokenIssuer, AccessTokenReader, AssertionVerifier
from meet.domain.applications.use_cases import (
    IssueApplicationToken,
    ManageApplications,
    RegisterApplication,
    TokenPolicy,
)
from meet.domain.audit.use_cases import AuditRetention, ListRoomAudit, TrimAudit, VerifyAudit
from meet.domain.conference.door import CountPresence, DoorPolicy
from meet.domain.conference.enforcement import EnforcePublishGrants, RemoveImpostors
from meet.domain.conference.events import SfuEventHandler
from meet.domain.conference.join import Admission
from meet.domain.conference.lifecycle import AnnounceRoomLifecycle
from meet.domain.conference.ports import LiveRooms
from meet.domain.conference.use_cases import OpenRoom
from meet.domain.conference.webhooks import ReceiveSfuEvent
from meet.domain.lobby.announce import KnockAnnouncer
from meet.domain.lobby.controls import DenyEveryone, SpeakToWaiting
from meet.domain.lobby.credentials import LobbyCredentials
from meet.domain.lobby.model import LobbyTimeouts
from meet.domain.lobby.notify import NotifyAdminsInRoom
from meet.domain.lobby.ports import KnockNotifier
from meet.domain.lobby.read_whole_list import ReadWholeList
from meet.domain.lobby.use_cases import (
    AdmitEveryone,
    AwaitChange,
    ClearLobbyWhenRoomFinishes,
    DecideEntry,
    EntryViews,
    ListWaiting,
    LobbyPolicy,
    RequestEntry,
    WaitForDecision,
    WatchWaiting,
)
from meet.domain.moderation.door import EndMeeting, LockRoom, SendToLobby
from meet.domain.moderation.guard import RemoveAgainOnRejoin
from meet.domain.moderation.presence import PresentParticipants
from meet.domain.moderation.use_cases import (
    ChangeParticipant,
    ListLiveParticipants,
    ModerationPolicy,
    MuteTrack,
    RaiseHand,
    RemoveParticipant,
    RenameSelf,
)
from meet.domain.recordings.events import FollowRecordingEgress
from meet.domain.recordings.room_deletion import DeleteRoomRecordings
from meet.domain.recordings.status import PublishRoomMetadata
from meet.domain.recordings.use_cases import (
    AdministeredRecordings,
    AuthorizeMediaDownload,
    DeleteRecording,
    GetRecording,
    ListRecordings,
    ReceiveStorageNotification,
    RecordingPolicy,
    ShowRecording,
    StartRecording,
    StopRecording,
)
from meet.domain.rooms.access_use_cases import ChangeAccessRole, GrantAccess, ListAccesses, RevokeAccess
from meet.domain.rooms.lookup import RoomLocator, RoomPolicy
from meet.domain.rooms.ports import RoomChangeListener, RoomDeletionListener
from meet.domain.rooms.preferences import GetProfile, UpdatePreferences
from meet.domain.rooms.snapshots import RoomSnapshots
from meet.domain.rooms.use_cases import CreateRoom, DeleteRoom, ListMyRooms, UpdateRoom
from meet.domain.shared.clock import Clock, SystemClock
from meet.domain.users.use_cases import BeginSignIn, CompleteSignIn, GetCurrentUser, SignIn
from meet.entrypoints.settings import Settings


class ApplicationsProvider(Provider):
    scope = Scope.APP

    @provide
    def policy(self, settings: Settings) -> TokenPolicy:
        return TokenPolicy(
            ttl_seconds=settings.application_token_ttl_seconds,
            allow_user_creation=settings.application_allow_user_creation,
            requests_per_minute=settings.application_token_requests_per_minute,
        )

    @provide
    def access_tokens(self, settings: Settings) -> AnyOf[JoseAccessTokens, AccessTokenIssuer, AccessTokenReader]:
        return JoseAccessTokens(settings.secret_key, issuer=settings.token_issuer, audience=TOKEN_AUDIENCE)

    verifier = provide(JoseAssertionVerifier, provides=AssertionVerifier)
    use_cases = provide_all(RegisterApplication, ManageApplications, IssueApplicationToken, AuthenticateBearer)


class UsersProvider(Provider):
    scope = Scope.APP
    use_cases = provide_all(SignIn, BeginSignIn, CompleteSignIn, GetCurrentUser)


class RoomsProvider(Provider):
    scope = Scope.APP

    @provide
    def policy(self, settings: Settings) -> RoomPolicy:
        return RoomPolicy(allow_temporary_rooms=settings.allow_temporary_rooms)

    clock = provide(SystemClock, provides=Clock)
    locator = provide(RoomLocator)
    snapshots = provide(RoomSnapshots)
    use_cases = provide_all(
        CreateRoom, ListMyRooms, UpdateRoom, DeleteRoom, ListAccesses, GrantAccess, ChangeAccessRole, RevokeAccess,
        GetProfile, UpdatePreferences,
    )  # fmt: skip


class ConferenceProvider(Provider):
    scope = Scope.APP

    @provide
    def door_policy(self, settings: Settings) -> DoorPolicy:
        return DoorPolicy(
            max_participants=settings.room_max_participants, end_grace_seconds=settings.room_end_grace_seconds
        )

    admission = provide(Admission)
    open_room = provide(OpenRoom)
    presence = provide(CountPresence)

    impostors = provide(RemoveImpostors)
    publish_grants = provide(EnforcePublishGrants)

    @provide
    def handlers(
        self,
        impostors: RemoveImpostors,
        rejoin: RemoveAgainOnRejoin,
        publish_grants: EnforcePublishGrants,
        lobby: ClearLobbyWhenRoomFinishes,
        recordings: FollowRecordingEgress,
        rooms: LiveRooms,
        lifecycle: AnnounceRoomLifecycle,
        presence: CountPresence,
    ) -> Sequence[SfuEventHandler]:
        # Who may be in the room first (and how many are), then what they publish, then what follows from
        # rooms ending.
        return [impostors, rejoin, presence, publish_grants, lobby, recordings, rooms, lifecycle]

    lifecycle = provide(AnnounceRoomLifecycle)
    receive = provide(ReceiveSfuEvent)


class LobbyProvider(Provider):
    scope = Scope.APP

    @provide
    def policy(self, settings: Settings) -> LobbyPolicy:
        return LobbyPolicy(
            timeouts=LobbyTimeouts(
                waiting=settings.lobby_waiting_timeout_seconds,
                accepted=settings.lobby_accepted_ttl_seconds,
                denied=settings.lobby_denied_ttl_seconds,
                denials_before_block=settings.lobby_denials_before_block,
                denial_window=settings.lobby_denial_window_seconds,
                blocked=settings.lobby_block_seconds,
            ),
            knocks_per_minute_per_participant=settings.lobby_knocks_per_minute,
            new_participants_per_minute_per_address=settings.lobby_new_participants_per_minute_per_address,
            notify_timeout_seconds=settings.lobby_notify_timeout_seconds,
            messages_per_minute=settings.lobby_messages_per_minute,
        )

    @provide
    def credentials(self, settings: Settings) -> LobbyCredentials:
        return LobbyCredentials(settings.secret_key)

    @provide
    def announcer(self, notifier: KnockNotifier, policy: LobbyPolicy) -> KnockAnnouncer:
        return KnockAnnouncer(
            notifier, timeout_seconds=policy.notify_timeout_seconds, pace_seconds=policy.notify_pace_seconds
        )

    notifier = provide(NotifyAdminsInRoom, provides=KnockNotifier)
    use_cases = provide_all(
        EntryViews,
        RequestEntry,
        WaitForDecision,
        AwaitChange,
        ListWaiting,
        DecideEntry,
        AdmitEveryone,
        DenyEveryone,
        SpeakToWaiting,
        WatchWaiting,
        ClearLobbyWhenRoomFinishes,
        ReadWholeList,
    )


class ModerationProvider(Provider):
    scope = Scope.APP

    @provide
    def policy(self, settings: Settings) -> ModerationPolicy:
        return ModerationPolicy(
            removal_seconds=settings.removal_seconds,
            allow_display_name_changes=settings.allow_display_name_changes,
        )

    use_cases = provide_all(
        PresentParticipants,
        RemoveAgainOnRejoin,
        ListLiveParticipants,
        MuteTrack,
        RemoveParticipant,
        ChangeParticipant,
        RaiseHand,
        RenameSelf,
        LockRoom,
        EndMeeting,
        SendToLobby,
    )


class RecordingsProvider(Provider):
    scope = Scope.APP

    @provide
    def policy(self, settings: Settings) -> RecordingPolicy:
        return RecordingPolicy(
            enabled=settings.recordings_enabled,
            retention_days=settings.recording_expiry_days or None,
            bucket=settings.s3_bucket,
            storage_hook_token=settings.storage_hook_token,
            public_url=settings.public_url,
        )

    room_changes = provide(PublishRoomMetadata, provides=RoomChangeListener)
    room_deletion = provide(DeleteRoomRecordings, provides=RoomDeletionListener)
    use_cases = provide_all(
        AdministeredRecordings,
        FollowRecordingEgress,
        StartRecording,
        StopRecording,
        ListRecordings,
        GetRecording,
        ShowRecording,
        DeleteRecording,
        ReceiveStorageNotification,
        AuthorizeMediaDownload,
    )


class AuditProvider(Provider):
    scope = Scope.APP

    @provide
    def retention(self, settings: Settings) -> AuditRetention:
        return AuditRetention(days=settings.audit_retention_days or None)

    use_cases = provide_all(ListRoomAudit, VerifyAudit, TrimAudit)
