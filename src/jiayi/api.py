"""The JSON API under /api/v1/: one NinjaAPI, one router per app, shared error handling.

Bad input answers 422 with field paths (`detail[].loc`), concurrent edits 409, never a 500.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from jiayi.core import throttle
from jiayi.core.api_auth import API_AUTH, ApiToken
from jiayi.core.errors import ConflictError, DomainValidationError
from jiayi.core.middleware import client_addr

api = NinjaAPI(
    title="Jiayi API",
    version="1",
    description="家医 — community health services: residents, records, contracts, programmes, indicators.",
    urls_namespace="api",
    auth=API_AUTH,
)


def _loc(field: str) -> list[str]:
    return ["body", *[p for p in field.split(".") if p]] if field else ["body"]


@api.exception_handler(DomainValidationError)
def domain_error(request, exc: DomainValidationError):
    status = 409 if isinstance(exc, ConflictError) else 422
    detail = [
        {"loc": _loc(field), "msg": str(msg), "type": exc.code}
        for field, msgs in exc.errors.items()
        for msg in msgs
    ]
    body: dict = {"detail": detail}
    existing = getattr(exc, "existing_id", None)
    if existing is not None:
        body["existing_id"] = existing
    return api.create_response(request, body, status=status)


@api.exception_handler(NinjaValidationError)
def schema_error(request, exc: NinjaValidationError):
    return api.create_response(request, {"detail": exc.errors}, status=422)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(request, {"detail": "Unauthorized"}, status=401)


@api.exception_handler(PermissionDenied)
def forbidden(request, exc: PermissionDenied):
    """A service refusing an action the caller may not take on an object they can see."""
    return api.create_response(request, {"detail": str(exc) or "无权进行此操作"}, status=403)


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_at: str


auth_router = Router(tags=["auth"])


@auth_router.post("/token", response={200: TokenOut, 401: dict, 429: dict}, auth=None)
def token(request, payload: TokenIn):
    """Failed attempts are throttled per username and per client address (429 with Retry-After)."""
    addr = client_addr(request)
    wait = throttle.retry_after(payload.username, addr)
    if wait is not None:  # refused before the password is checked, so guessing goes no further
        response = api.create_response(request, {"detail": throttle.message(wait)}, status=429)
        response["Retry-After"] = str(wait)
        return response
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        throttle.record_failure(payload.username, addr)
        raise HttpError(401, "用户名或密码错误")
    throttle.record_success(payload.username)
    tok, raw = ApiToken.objects.issue(user)
    return {"access_token": raw, "token_type": "bearer", "expires_at": tok.expires_at.isoformat()}


api.add_router("/auth", auth_router)

# Each app's router; imported here (after the API exists) so apps can import shared API helpers.
from jiayi.contracts.api import router as contracts_router  # noqa: E402
from jiayi.indicators.api import fhir_router as indicators_fhir_router  # noqa: E402
from jiayi.indicators.api import router as indicators_router  # noqa: E402
from jiayi.programmes.api import router as programmes_router  # noqa: E402
from jiayi.residents.api import router as residents_router  # noqa: E402
from jiayi.residents.codes_api import router as codes_router  # noqa: E402

api.add_router("/", residents_router)
api.add_router("/", codes_router)
api.add_router("/", programmes_router)
api.add_router("/", contracts_router)
api.add_router("/", indicators_router)
api.add_router("/fhir", indicators_fhir_router)
