from django.urls import path, register_converter

from builds import api, recommend_web, views


class ShareIdConverter:
    """Share ids are urlsafe base64 (secrets.token_urlsafe); anything else is a 404 before the database."""

    regex = "[A-Za-z0-9_-]{1,64}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ShareIdConverter, "shareid")

urlpatterns = [
    path("api/v1/check", api.check_view, name="api-check"),
    path("api/v1/estimate", api.estimate_view, name="api-estimate"),
    path("api/v1/builds", api.builds_create_view, name="api-builds"),
    path("api/v1/builds/<shareid:share_id>", api.build_detail_view, name="api-build"),
    path("api/v1/openapi.json", api.openapi_view, name="api-openapi"),
    path("api/v1/recommend", recommend_web.recommend_api, name="api-recommend"),
    path("builds/new/", views.build_new, name="build-new"),
    path("builds/pick/<str:category>/", views.build_picker, name="build-picker"),
    path("builds/custom/", views.build_custom_part, name="build-custom"),
    path("b/<shareid:share_id>/", views.build_detail, name="build-detail"),
    path("b/<shareid:share_id>/edit/", views.build_edit, name="build-edit"),
    path("b/<shareid:share_id>/fork/", views.build_fork_view, name="build-fork"),
    path("b/<shareid:share_id>/r/<int:number>/", views.build_revision, name="build-revision"),
    path("compare/", views.compare, name="compare"),
    path("plan/", views.plan, name="plan"),
    path("recommend/", recommend_web.recommend_page, name="recommend"),
    path("recommend/save/", recommend_web.recommend_save, name="recommend-save"),
]
