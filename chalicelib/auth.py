"""Bearer-token authentication and role checks, as the contract says.

AUTH_MODE=dev: HS256 tokens signed with AUTH_DEV_SECRET, groups from `groups`.
AUTH_MODE=cognito: RS256 tokens of the user pool, verified against its JWKS (cached by
PyJWKClient) as Cognito documents: issuer, expiry, `token_use`, and the app client (`client_id`
of an access token, `aud` of an ID token); groups only from `cognito:groups`.

Whatever the signature, the claims are validated by shape (`TokenClaims`): `sub` a non-empty
string, `exp` an integer, groups a list of strings. Group names that are not roles of this API
(other user-pool groups) are ignored, so they grant nothing; a token without a role is a member.

Verification runs inside the Lambda (not as an API Gateway authorizer) so that tests, `chalice
local` and AWS enforce it identically and answer with the contract's error body.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from chalice.app import Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from chalicelib.config import settings
from chalicelib.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    import jwt

# PyJWT (and cryptography for RS256) is imported at first use: the nightly jobs and the upload
# handler never verify a token.

Role = Literal["member", "pos", "backoffice"]
ROLES: tuple[Role, ...] = ("member", "pos", "backoffice")


@dataclass(frozen=True)
class Principal:
    subject: str
    groups: frozenset[str]


class TokenClaims(BaseModel):
    """The claims this API reads, checked by type: a bad shape is an invalid token (401)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: StrictStr = Field(min_length=1)
    exp: StrictInt
    groups: list[StrictStr] = []

    def principal(self) -> Principal:
        roles = frozenset(g for g in self.groups if g in ROLES)
        return Principal(subject=self.sub, groups=roles or frozenset({"member"}))


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    import jwt

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


def _decode(token: str) -> dict[str, Any]:
    """The verified claims, with the groups under `groups` whatever the mode."""
    import jwt

    cfg = settings()
    if cfg.auth_mode == "dev":
        claims: dict[str, Any] = jwt.decode(
            token, cfg.auth_dev_secret, algorithms=["HS256"], options={"require": ["sub", "exp"]}
        )
        return claims
    if not cfg.cognito_user_pool_id or not cfg.cognito_app_client_id:
        raise jwt.InvalidTokenError("cognito mode without a user pool and app client configured")
    issuer = f"https://cognito-idp.{cfg.aws_region}.amazonaws.com/{cfg.cognito_user_pool_id}"
    key = _jwks_client(f"{issuer}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    # `aud` is checked below by token_use: only ID tokens carry it (access tokens carry client_id).
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        issuer=issuer,
        options={"require": ["sub", "exp", "iss", "token_use"], "verify_aud": False},
    )
    use = claims.get("token_use")
    if use == "access":
        client = claims.get("client_id")
    elif use == "id":
        client = claims.get("aud")
    else:
        raise jwt.InvalidTokenError("token_use is neither access nor id")
    if client != cfg.cognito_app_client_id:
        raise jwt.InvalidTokenError("token is for another app client")
    # Only the user pool's groups count: a `groups` claim in a Cognito token is not ours.
    return {**claims, "groups": claims.get("cognito:groups", [])}


def authenticate(request: Request) -> Principal:
    """The caller of a request, from its bearer token (401 when missing or invalid)."""
    import jwt

    headers: Mapping[str, str] = request.headers or {}
    header = headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("UNAUTHORIZED", "A bearer token is required")
    try:
        return TokenClaims.model_validate(_decode(token.strip())).principal()
    except (jwt.PyJWTError, ValueError, ValidationError):
        raise Unauthorized("INVALID_TOKEN", "The bearer token is invalid or expired") from None


def require(request: Request, *roles: Role) -> Principal:
    """Authenticate and check that the caller has one of `roles` (403 otherwise)."""
    principal = authenticate(request)
    if not principal.groups.intersection(roles):
        raise Forbidden("FORBIDDEN", f"This route needs the role {' or '.join(roles)}")
    return principal


def mint_dev_token(
    subject: str, groups: list[str] | None = None, ttl_seconds: int = 86400, secret: str | None = None
) -> str:
    """A dev-mode token (HS256) for local use and tests."""
    import jwt

    payload: dict[str, object] = {"sub": subject, "iat": int(time.time()), "exp": int(time.time()) + ttl_seconds}
    if groups:
        payload["groups"] = groups
    return jwt.encode(payload, secret or settings().auth_dev_secret, algorithm="HS256")
