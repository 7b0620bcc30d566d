from django.contrib import admin
from django.db import transaction
from django.db.models import F

from builds.models import Build, BuildItem, BuildRevision
from builds.services import build_snapshot


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

    def save_related(self, request, form, formsets, change):
        """Every save of a build is a revision, the admin's too: the history never skips a state."""
        super().save_related(request, form, formsets, change)
        build = form.instance
        with transaction.atomic():
            Build.objects.filter(pk=build.pk).update(revision_count=F("revision_count") + 1)
            build.refresh_from_db(fields=["revision_count", "updated_at"])
            items = list(build.items.select_related("part").order_by("position", "id"))
            BuildRevision.objects.create(
                build=build,
                number=build.revision_count,
                snapshot=build_snapshot(build, items),
                note="edited in the admin" if change else "created in the admin",
                created_by=request.user,
            )


@admin.register(BuildRevision)
class BuildRevisionAdmin(admin.ModelAdmin):
    """Revisions are the build's history: shown, never added, changed or deleted by hand."""

    list_display = ["build", "number", "note", "created_at"]
    readonly_fields = ["build", "number", "snapshot", "note", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
