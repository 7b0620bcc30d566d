from django.contrib import admin

from builds.models import Build, BuildItem, BuildRevision


class BuildItemInline(admin.TabularInline):
    model = BuildItem
    extra = 0
    autocomplete_fields = ["part"]


@admin.register(Build)
class BuildAdmin(admin.ModelAdmin):
    list_display = ["name", "share_id", "visibility", "owner", "revision_count", "updated_at"]
    list_filter = ["visibility"]
    search_fields = ["name", "share_id"]
    readonly_fields = ["share_id", "revision_count", "forked_from"]
    inlines = [BuildItemInline]


@admin.register(BuildRevision)
class BuildRevisionAdmin(admin.ModelAdmin):
    list_display = ["build", "number", "note", "created_at"]
    readonly_fields = ["build", "number", "snapshot", "note", "created_by", "created_at"]
