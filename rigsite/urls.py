from django.contrib import admin
from django.urls import include, path

from rigsite import views

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page links: send them to the page's icon, not a 404.
    path("favicon.ico", views.favicon),
    path("", include("catalog.urls")),
    path("", include("builds.urls")),
]
