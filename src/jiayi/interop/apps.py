from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "jiayi.interop"
    label = "interop"
    verbose_name = "互操作"
