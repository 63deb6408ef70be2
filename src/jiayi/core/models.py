"""Cross-cutting models: the append-only access log and the optimistic-concurrency base."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionedModel(models.Model):
    """A row that detects concurrent edits: writers send the version they read (principle 4)."""

    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AccessAction(models.TextChoices):
    VIEW = "view", _("查看")
    SEARCH = "search", _("查询")
    CREATE = "create", _("新建")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    EXPORT = "export", _("导出")


class AccessEvent(models.Model):
    """Who read or changed which resident's personal data, when and from where.

    Append-only: the app never updates or deletes a row (save() refuses updates, delete() refuses).
    Field-level change history of registered models is kept in addition by django-auditlog.
    """

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(_("用户"), max_length=150)
    action = models.CharField(_("操作"), max_length=10, choices=AccessAction.choices)
    object_type = models.CharField(_("对象类型"), max_length=60)
    object_id = models.CharField(_("对象"), max_length=40, blank=True)
    resident_id = models.BigIntegerField(_("居民"), null=True, blank=True, db_index=True)
    remote_addr = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    path = models.CharField(_("请求路径"), max_length=300, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("访问审计")
        verbose_name_plural = _("访问审计")
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("access events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("access events are append-only")


from jiayi.core.api_auth import ApiToken  # noqa: E402,F401  (model lives with its auth code)
from jiayi.core.change_capture import Change, ChangeCursor  # noqa: E402,F401  (models live with the triggers)
