"""Where recordings are stored (S3, or a folder under the data dir) and how mail goes out (SMTP, or the log)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from dishka import AnyOf, Scope, provide

from meet.adapters.localfs.storage import LocalFolderStorage
from meet.adapters.log.mailer import LogMailer
from meet.adapters.s3.storage import S3Health, S3Location, S3ObjectStorage
from meet.adapters.smtp.health import SmtpHealth
from meet.adapters.smtp.mailer import SmtpMailer, SmtpServer
from meet.domain.recordings.ports import Mailer, ObjectStorage
from meet.entrypoints.providers.health import BackendProvider
from meet.entrypoints.settings import Settings


class S3StorageProvider(BackendProvider):
    health_checks = (S3Health,)

    @provide(scope=Scope.APP)
    async def storage(self, settings: Settings) -> AsyncIterator[AnyOf[S3ObjectStorage, ObjectStorage]]:
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

    health = provide(S3Health, scope=Scope.APP)


class LocalStorageProvider(BackendProvider):
    """A folder has nothing to be unreachable: no health check."""

    absent = ("storage", "recordings in a folder under MEET_DATA_DIR")

    @provide(scope=Scope.APP)
    def storage(self, settings: Settings) -> ObjectStorage:
        return LocalFolderStorage(Path(settings.data_dir) / "media")


class SmtpMailProvider(BackendProvider):
    deployment_checks = (SmtpHealth,)

    @provide(scope=Scope.APP)
    def server(self, settings: Settings) -> SmtpServer:
        return SmtpServer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            tls=settings.smtp_tls,
        )

    mailer = provide(SmtpMailer, scope=Scope.APP, provides=Mailer)
    health = provide(SmtpHealth, scope=Scope.APP)


class LogMailProvider(BackendProvider):
    absent = ("smtp", "mail is only logged")
    mailer = provide(LogMailer, scope=Scope.APP, provides=Mailer)
