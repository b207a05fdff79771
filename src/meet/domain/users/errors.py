from __future__ import annotations

from meet.domain.shared.errors import NotFound


class SignInUnavailable(NotFound):
    default_message = "Sign-in with an identity provider is not configured on this server."
    code = "sign_in_not_configured"
