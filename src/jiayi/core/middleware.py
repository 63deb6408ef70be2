"""Makes the current request available to audit helpers called deep inside services."""

from __future__ import annotations

import contextvars

_request: contextvars.ContextVar = contextvars.ContextVar("jiayi_request", default=None)


def current_request():
    return _request.get()


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def client_addr(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


class RejectNulBytesMiddleware:
    """PostgreSQL text cannot hold NUL; an API request carrying one gets a 422, not a database error.

    Django forms already refuse NUL (ProhibitNullCharactersValidator); the JSON API needs this guard."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            qs = request.META.get("QUERY_STRING", "")
            loc = None
            if "%00" in qs or "\x00" in qs or "\x00" in request.path:
                loc = ["query"]
            elif request.method in ("POST", "PUT", "PATCH"):
                body = request.body
                if b"\x00" in body or b"\\u0000" in body:
                    loc = ["body"]
            if loc is not None:
                from django.http import JsonResponse

                return JsonResponse(
                    {"detail": [{"loc": loc, "msg": "输入含有不允许的空字符 (NUL)。", "type": "nul_byte"}]}, status=422
                )
        return self.get_response(request)
