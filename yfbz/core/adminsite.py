"""The admin site: Django's, with its every-page context computed only when a page uses it (issue 14).

``AdminSite.each_context`` builds ``available_apps`` — every registered model, each with its permission
checks — on every admin page, for the sidebar alone; the sidebar is off (yfbz/urls.py), so that list was
15% of an admin page's time for nothing. Here it is computed when a template reads it.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.utils.functional import SimpleLazyObject


class YfbzAdminSite(AdminSite):
    def each_context(self, request):
        # AdminSite.each_context as in Django 5.2, with the app list left for a template that reads it
        script_name = request.META["SCRIPT_NAME"]
        site_url = script_name if self.site_url == "/" and script_name else self.site_url
        return {
            "site_title": self.site_title,
            "site_header": self.site_header,
            "site_url": site_url,
            "has_permission": self.has_permission(request),
            "available_apps": SimpleLazyObject(lambda: self.get_app_list(request)),
            "is_popup": False,
            "is_nav_sidebar_enabled": self.enable_nav_sidebar,
            "log_entries": self.get_log_entries(request),
        }


class YfbzAdminConfig(AdminConfig):
    default_site = "yfbz.core.adminsite.YfbzAdminSite"
