from __future__ import annotations

from meet.domain.shared.errors import Conflict, NotFound


class SignInUnavailable(NotFound):
    default_message = "Sign-in with an identity provider is not configured on this server."
    code = "sign_in_not_configured"


class NoSignInInProgress(Conflict):
    default_message = "No sign-in is in progress in this browser; start again."
    code = "no_sign_in_in_progress"
