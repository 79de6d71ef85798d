from django.urls import path

from . import views

app_name = "reporting"
urlpatterns = [
    path("", views.statistics, name="statistics"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("identities/", views.identity_changes, name="identity-changes"),
    path("returns/", views.return_list, name="returns"),
    path("returns/new/", views.return_new, name="return-new"),
    path("returns/<int:pk>/", views.return_detail, name="return-detail"),
    path("returns/<int:pk>/approve/", views.return_act, {"action": "approve"}, name="return-approve"),
    path("returns/<int:pk>/cancel/", views.return_act, {"action": "cancel"}, name="return-cancel"),
    path("returns/<int:pk>/file.<str:fmt>", views.return_file, name="return-file"),
    path("budget/", views.budget, name="budget"),
]
