from django.contrib import admin
from django.urls import include, path

from rigsite import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("", include("catalog.urls")),
    path("", include("builds.urls")),
]
