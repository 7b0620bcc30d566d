from django.urls import path

from catalog import views

urlpatterns = [
    path("parts/<str:category>/", views.parts_list, name="parts-list"),
    path("parts/<str:category>/<slug:slug>/", views.part_detail, name="part-detail"),
]
