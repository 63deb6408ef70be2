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
