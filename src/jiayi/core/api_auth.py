"""API tokens: `POST /api/v1/auth/token` trades a username and password for a bearer token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from ninja.security import HttpBearer, django_auth


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenManager(models.Manager):
    def issue(self, user) -> tuple[ApiToken, str]:
        raw = secrets.token_urlsafe(32)
        token = self.create(
            user=user, digest=_digest(raw),
            expires_at=timezone.now() + timedelta(days=settings.JIAYI["API_TOKEN_DAYS"]),
        )
        return token, raw


class ApiToken(models.Model):
    """Only a SHA-256 digest of the token is stored; the raw token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    class Meta:
        app_label = "core"

    def __str__(self) -> str:
        return f"token for {self.user_id}"


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        try:
            t = ApiToken.objects.select_related("user").get(digest=_digest(token), expires_at__gt=timezone.now())
        except ApiToken.DoesNotExist:
            return None
        if not t.user.is_active:
            return None
        ApiToken.objects.filter(pk=t.pk).update(last_used_at=timezone.now())
        request.user = t.user
        return t.user


API_AUTH = [BearerToken(), django_auth]
