from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert-detail"),
    path("alerts/<int:pk>/action/", views.alert_action, name="alert-action"),
    path("referrals/", views.referral_list, name="referral-list"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral-detail"),
    path("referrals/<int:pk>/outcome/", views.referral_outcome, name="referral-outcome"),
    path("overview/", views.overview_page, name="overview"),
    path("results/", views.department_results, name="department-results"),
    path("indicator/", views.indicator_page, name="indicator"),
    path("applications/", views.application_list, name="application-list"),
    path("applications/new/", views.application_new, name="application-new"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/papers/<int:paper>/", views.application_paper, name="application-paper"),
    path("applications/<int:pk>/<str:step>/", views.application_step, name="application-step"),
]
