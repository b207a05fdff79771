from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meet.adapters.livekit.client import LiveKitClientFactory
from meet.adapters.livekit.egress import EgressStorage, LiveKitRecordingEgress
from meet.adapters.localfs.storage import LocalFolderStorage
from meet.adapters.memory.mailer import LoggingMailer
from meet.adapters.s3.storage import S3Location, S3ObjectStorage
from meet.adapters.smtp.mailer import SmtpMailer, SmtpServer
from meet.adapters.sqlalchemy.recordings import SqlaRecordingRepository, SqlaRecordingTransactions
from meet.domain.conference.sfu import RecordingEgress
from meet.domain.recordings.events import FollowRecordingEgress
from meet.domain.recordings.ports import Mailer, ObjectStorage, RecordingRepository, RecordingTransactions
from meet.domain.recordings.room_deletion import DeleteRoomRecordings
from meet.domain.recordings.use_cases import (
    AuthorizeMediaDownload,
    DeleteRecording,
    GetRecording,
    ListRecordings,
    ReceiveStorageNotification,
    RecordingPolicy,
    StartRecording,
    StopRecording,
)
from meet.domain.rooms.ports import RoomDeletionListener
from meet.entrypoints.settings import Settings


class RecordingsProvider(Provider):
    """Recordings: S3 when ``MEET_S3_ENDPOINT_URL`` is set (else a folder under the data dir), LiveKit
    egress, SMTP when ``MEET_SMTP_HOST`` is set (else mail is only logged)."""

    @provide(scope=Scope.APP)
    def policy(self, settings: Settings) -> RecordingPolicy:
        return RecordingPolicy(
            enabled=settings.recordings_enabled,
            retention_days=settings.recording_expiry_days or None,
            bucket=settings.s3_bucket,
            storage_hook_token=settings.storage_hook_token,
            public_url=settings.public_url,
        )

    @provide(scope=Scope.APP)
    async def storage(self, settings: Settings) -> AsyncIterator[ObjectStorage]:
        if not settings.s3_endpoint_url:
            yield LocalFolderStorage(Path(settings.data_dir) / "media")
            return
        storage = S3ObjectStorage(
            S3Location(
                endpoint_url=settings.s3_endpoint_url,
                bucket=settings.s3_bucket,
                region=settings.s3_region,
                access_key=settings.s3_access_key,
                secret_key=settings.s3_secret_key,
                timeout_seconds=settings.s3_timeout_seconds,
            )
        )
        yield storage
        storage.close()

    @provide(scope=Scope.APP)
    def mailer(self, settings: Settings) -> Mailer:
        if not settings.smtp_host:
            return LoggingMailer()
        return SmtpMailer(
            SmtpServer(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                user=settings.smtp_user,
                password=settings.smtp_password,
                tls=settings.smtp_tls,
            )
        )

    @provide(scope=Scope.APP)
    def egress(self, settings: Settings, clients: LiveKitClientFactory) -> RecordingEgress:
        return LiveKitRecordingEgress(
            clients,
            EgressStorage(
                bucket=settings.s3_bucket,
                endpoint=settings.egress_s3_endpoint_url or settings.s3_endpoint_url,
                region=settings.s3_region,
                access_key=settings.s3_access_key,
                secret=settings.s3_secret_key,
            ),
        )

    @provide(scope=Scope.APP)
    def transactions(self, sessions: async_sessionmaker[AsyncSession]) -> RecordingTransactions:
        return SqlaRecordingTransactions(sessions)

    follow_egress = provide(FollowRecordingEgress, scope=Scope.APP)
    repository = provide(SqlaRecordingRepository, scope=Scope.REQUEST, provides=RecordingRepository)
    start = provide(StartRecording, scope=Scope.REQUEST)
    stop = provide(StopRecording, scope=Scope.REQUEST)
    list_mine = provide(ListRecordings, scope=Scope.REQUEST)
    get = provide(GetRecording, scope=Scope.REQUEST)
    delete = provide(DeleteRecording, scope=Scope.REQUEST)
    storage_hook = provide(ReceiveStorageNotification, scope=Scope.REQUEST)
    media_auth = provide(AuthorizeMediaDownload, scope=Scope.REQUEST)
    room_deletion = provide(DeleteRoomRecordings, scope=Scope.REQUEST, provides=RoomDeletionListener)
