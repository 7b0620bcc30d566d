"""Curation in the admin: specs, board topology inline, price quotes inline (append-only), CSV prices,
history of who changed what (django-simple-history), retire instead of delete."""

from django.contrib import admin, messages
from django.utils import timezone
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from catalog import models
from catalog.prices_csv import PriceQuoteResource
from catalog.services import (
    exchange_rates,
    exchange_rates_forget,
    part_price_refresh,
    part_retire,
    price_is_stale,
)


class PriceQuoteInline(admin.TabularInline):
    model = models.PriceQuote
    extra = 1
    fields = ["amount", "currency", "condition", "source", "url", "observed_at", "created_by", "created_at"]
    readonly_fields = ["created_by", "created_at"]
    can_delete = False
    ordering = ["-observed_at"]

    def has_change_permission(self, request, obj=None):
        return False  # append-only: existing quotes are shown, never edited

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["observed_at"].initial = timezone.now
        return formset


class PcieSlotInline(admin.TabularInline):
    model = models.PcieSlot
    extra = 0


class M2SocketInline(admin.TabularInline):
    model = models.M2Socket
    extra = 0


class LaneRuleInline(admin.TabularInline):
    model = models.LaneRule
    extra = 0


@admin.action(description="Retire the selected parts (they stay in saved builds, leave the pickers)")
def retire_parts(modeladmin, request, queryset):
    for part in queryset:
        part_retire(part=part)
    messages.success(request, f"Retired {queryset.count()} parts.")


class PartAdmin(SimpleHistoryAdmin):
    inlines = [PriceQuoteInline]
    list_display = ["name", "brand", "price_new_usd", "price_used_usd", "stale", "retired", "curated"]
    list_filter = ["retired", "curated", "brand"]
    search_fields = ["name", "slug", "brand", "opendb_id"]
    readonly_fields = ["price_new_usd", "price_used_usd", "price_observed_at", "opendb_id", "category"]
    actions = [retire_parts]
    list_per_page = 50

    @admin.display(boolean=True, description="price stale")
    def stale(self, obj):
        return price_is_stale(obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if self.model is models.Part else queryset.select_related("part_ptr")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.category = next(c for c, m in models.CATEGORY_MODELS.items() if m is type(obj))
        else:
            # Derived prices come only from the quote log: a history "Revert" hands us the old row with
            # its old price_new_usd etc., and a change form holds the prices read before a quote landed.
            # Recompute them from the quotes onto the object before it is saved (and its history row made).
            part_price_refresh(obj)
        super().save_model(request, obj, form, change)  # the save bumps the catalogue version on commit

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, models.PriceQuote):
                instance.created_by = request.user
            instance.save()
        formset.save_m2m()
        if formset.model is models.PriceQuote and instances:
            part_price_refresh(form.instance)

    def has_delete_permission(self, request, obj=None):
        # Parts are retired, never deleted, while any build uses them (BuildItem.part is PROTECT too).
        if obj is not None and obj.build_items.exists():
            return False
        return super().has_delete_permission(request, obj)


class MotherboardAdmin(PartAdmin):
    inlines = [PcieSlotInline, M2SocketInline, LaneRuleInline, PriceQuoteInline]
    list_display = [
        "name",
        "socket",
        "chipset",
        "form_factor",
        "topology_curated",
        "price_new_usd",
        "retired",
    ]
    list_filter = ["topology_curated", "socket", "retired", "curated"]


class GpuAdmin(PartAdmin):
    list_display = [
        "name",
        "vram_gb",
        "bf16_tflops",
        "board_power_w",
        "price_new_usd",
        "price_per_vram_gb_usd",
        "stale",
    ]


for category, model in models.CATEGORY_MODELS.items():
    admin_class = {"motherboard": MotherboardAdmin, "gpu": GpuAdmin}.get(category, PartAdmin)
    admin.site.register(model, admin_class)


@admin.register(models.PriceQuote)
class PriceQuoteAdmin(ImportExportMixin, admin.ModelAdmin):
    resource_classes = [PriceQuoteResource]
    list_display = ["part", "amount", "currency", "condition", "source", "observed_at", "created_by"]
    list_filter = ["currency", "condition"]
    search_fields = ["part__name", "part__slug", "source"]
    autocomplete_fields = ["part"]
    readonly_fields = ["created_by", "created_at"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        part_price_refresh(obj.part)


admin.site.register(models.Part, PartAdmin)


def rates_changed(currency: str) -> None:
    """A rate was added, edited, reverted or deleted: every part quoted in that currency re-derives its
    USD prices from its quotes with the rates as they are now. The rate's save or delete bumps the catalogue
    version on commit (catalog.signals), so caches keyed by it see the new prices."""
    exchange_rates_forget()  # read the rate just written, not the cached one
    rates = exchange_rates()
    for part in models.Part.objects.filter(price_quotes__currency=currency).distinct():
        part_price_refresh(part, rates)


@admin.register(models.ExchangeRate)
class ExchangeRateAdmin(SimpleHistoryAdmin):
    list_display = ["currency", "per_usd", "observed_at", "source"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        rates_changed(obj.currency)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        rates_changed(obj.currency)

    def delete_queryset(self, request, queryset):
        currencies = set(queryset.values_list("currency", flat=True))
        super().delete_queryset(request, queryset)
        for currency in currencies:
            rates_changed(currency)


@admin.register(models.CloudOffer)
class CloudOfferAdmin(admin.ModelAdmin):
    list_display = ["gpu", "provider", "usd_per_hour", "gpus", "observed_at"]
    autocomplete_fields = ["gpu"]


@admin.register(models.ModelPreset)
class ModelPresetAdmin(admin.ModelAdmin):
    list_display = ["name", "params", "layers", "hidden", "kv_heads", "experts", "position"]
    search_fields = ["name", "slug"]
