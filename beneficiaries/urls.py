from django.urls import path

from . import roster_views, views

app_name = "beneficiaries"
urlpatterns = [
    path("", views.person_list, name="person-list"),
    path("export.xlsx", views.person_export, name="person-export"),
    path("<int:pk>/", views.person_detail, name="person-detail"),
    path("<int:pk>/town", views.person_town, name="person-town"),
    path("<int:pk>/attributes", views.person_attribute_action, name="person-attribute"),
    path("<int:pk>/corrections", views.person_correction, name="person-correction"),
    path("rosters/", roster_views.roster_list, name="roster-list"),
    path("rosters/duty/", roster_views.duty_board, name="duty-board"),
    path("rosters/retroactive/", roster_views.retroactive_list, name="retroactive-list"),
    path("rosters/retroactive/bulk", roster_views.retroactive_bulk, name="retroactive-bulk"),
    path("rosters/<int:pk>/", roster_views.roster_detail, name="roster-detail"),
    path("rosters/<int:pk>/progress.json", roster_views.roster_progress, name="roster-progress"),
    path("rosters/<int:pk>/issues.xlsx", roster_views.roster_issues, name="roster-issues"),
    path("rosters/<int:pk>/action", roster_views.roster_action, name="roster-action"),
    path("rosters/<int:pk>/review", roster_views.roster_review, name="roster-review"),
]
