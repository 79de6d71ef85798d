from django.urls import path

from . import views

app_name = "areas"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("move", views.change, {"action": "move"}, name="move"),
    path("add", views.change, {"action": "add"}, name="add"),
    path("import", views.change, {"action": "import"}, name="import"),
]
