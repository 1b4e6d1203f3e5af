"""Bearer-token authentication and role checks, as the contract says.

AUTH_MODE=dev: HS256 tokens signed with AUTH_DEV_SECRET. AUTH_MODE=cognito: RS256 tokens of the
user pool, verified against its JWKS (cached by PyJWKClient); groups from `cognito:groups`.

Verification runs inside the Lambda (not as an API Gateway authorizer) so that tests, `chalice
local` and AWS enforce it identically and answer with the contract's error body.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from chalice.app import Request

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


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    import jwt

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


def _decode(token: str) -> dict[str, object]:
    import jwt

    cfg = settings()
    if cfg.auth_mode == "dev":
        return jwt.decode(token, cfg.auth_dev_secret, algorithms=["HS256"], options={"require": ["sub"]})
    issuer = f"https://cognito-idp.{cfg.aws_region}.amazonaws.com/{cfg.cognito_user_pool_id}"
    key = _jwks_client(f"{issuer}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=issuer, options={"require": ["sub", "exp"]})
    # Cognito id tokens carry `aud`, access tokens `client_id`: accept either for our app client.
    client = claims.get("aud") or claims.get("client_id")
    if cfg.cognito_app_client_id and client != cfg.cognito_app_client_id:
        raise jwt.InvalidTokenError("token is for another app client")
    return claims


def authenticate(request: Request) -> Principal:
    """The caller of a request, from its bearer token (401 when missing or invalid)."""
    import jwt

    header = (request.headers or {}).get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("UNAUTHORIZED", "A bearer token is required")
    try:
        claims = _decode(token.strip())
    except (jwt.PyJWTError, ValueError):
        raise Unauthorized("INVALID_TOKEN", "The bearer token is invalid or expired") from None
    raw_groups = claims.get("groups", claims.get("cognito:groups")) or []
    if isinstance(raw_groups, str):
        raw_groups = [raw_groups]
    groups = frozenset(str(g) for g in raw_groups if g in ROLES) or frozenset({"member"})
    return Principal(subject=str(claims["sub"]), groups=groups)


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
