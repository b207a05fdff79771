"""``config/``: every field La Suite Meet's frontend reads at start; what meet does not offer is off."""

from __future__ import annotations

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, get

from meet.domain.rooms.model import DEFAULT_SOURCES
from meet.entrypoints.settings import Settings


class Feedback(msgspec.Struct):
    url: str


class Recording(msgspec.Struct):
    is_enabled: bool
    available_modes: list[str]
    expiration_days: int | None
    max_duration: int | None


class BackgroundImage(msgspec.Struct):
    upload_is_enabled: bool
    max_size: int
    max_count_by_user: int
    allowed_extensions: list[str]
    allowed_mimetypes: list[str]


class Enabled(msgspec.Struct):
    enabled: bool


class Diagnostics(msgspec.Struct):
    connection_test_enabled: bool


class LiveKit(msgspec.Struct):
    url: str
    force_wss_protocol: bool
    enable_firefox_proxy_workaround: bool
    default_sources: list[str]


class Resource(msgspec.Struct):
    default_access_level: str


class LaSuiteConfig(msgspec.Struct):
    feedback: Feedback
    is_silent_login_enabled: bool
    recording: Recording
    background_image: BackgroundImage
    subtitle: Enabled
    diagnostics: Diagnostics
    telephony: Enabled
    resource: Resource
    livekit: LiveKit
    max_participants_for_sound: int
    auto_mute_on_join_threshold: int
    authenticated_users_can_edit_display_name: bool
    use_french_gov_footer: bool
    use_proconnect_button: bool
    silence_livekit_debug_logs: bool

    @classmethod
    def of(cls, settings: Settings) -> LaSuiteConfig:
        return cls(
            feedback=Feedback(url=""),  # no feedback form: the app hides its button
            is_silent_login_enabled=settings.oidc_enabled and settings.lasuite_silent_login,
            recording=Recording(
                is_enabled=settings.recordings_enabled and settings.sfu == "livekit",
                available_modes=["screen_recording", "transcript"],
                expiration_days=settings.recording_expiry_days or None,
                max_duration=None,
            ),
            background_image=BackgroundImage(
                upload_is_enabled=False, max_size=0, max_count_by_user=0, allowed_extensions=[], allowed_mimetypes=[]
            ),
            subtitle=Enabled(enabled=False),
            diagnostics=Diagnostics(connection_test_enabled=False),
            telephony=Enabled(enabled=False),
            resource=Resource(default_access_level="public"),
            livekit=LiveKit(
                url=settings.livekit_browser_url,
                force_wss_protocol=False,
                enable_firefox_proxy_workaround=False,
                default_sources=[source.value for source in DEFAULT_SOURCES],
            ),
            max_participants_for_sound=20,
            auto_mute_on_join_threshold=40,
            authenticated_users_can_edit_display_name=settings.allow_display_name_changes,
            use_french_gov_footer=False,
            use_proconnect_button=False,
            silence_livekit_debug_logs=True,
        )


class LaSuiteConfigController(Controller):
    path = "/config"
    tags = ["La Suite Meet"]

    @get("/", summary="What La Suite Meet's frontend needs at start")
    async def config(self, settings: FromDishka[Settings]) -> LaSuiteConfig:
        return LaSuiteConfig.of(settings)
