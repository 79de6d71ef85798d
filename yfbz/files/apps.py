from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "yfbz.files"
    label = "files"
    verbose_name = "文件格式"
