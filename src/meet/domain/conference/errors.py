from __future__ import annotations

from meet.domain.shared.errors import (
    AuthenticationRequired,
    BadRequest,
    NotFound,
    ServiceUnavailable,
    UpstreamFailure,
)


class ParticipantNotInRoom(NotFound):
    default_message = "No such participant in the live room."
    code = "participant_not_in_room"


class SfuUnavailable(ServiceUnavailable):
    default_message = "The media server cannot be reached; try again shortly."
    code = "sfu_unavailable"


class SfuRequestFailed(UpstreamFailure):
    default_message = "The media server refused or failed the request."
    code = "sfu_request_failed"


class InvalidParticipantToken(AuthenticationRequired):
    default_message = "The participant token is missing, invalid, expired or not for this room."
    code = "invalid_participant_token"


class InvalidWebhookSignature(AuthenticationRequired):
    default_message = "The webhook signature is missing or invalid."
    code = "invalid_webhook_signature"


class MalformedWebhook(BadRequest):
    default_message = "The webhook body is not a valid event."
    code = "malformed_webhook"


class WebhookNotExpected(NotFound):
    default_message = "No such webhook: this service uses another media server."
    code = "webhook_not_expected"
