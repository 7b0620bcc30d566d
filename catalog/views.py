"""Parts pages: a filtered, sorted list per category and a part's detail with topology and price history."""

from django import forms
from django.forms.utils import flatatt
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from catalog import list_html, selectors
from catalog.charts import price_history_svg
from catalog.models import Category

# The classes crispy-forms gave these controls (kept: the page looks the same).
INPUT_CLASSES = {"text": "textinput form-control", "number": "numberinput form-control"}


class PartFilterForm(forms.Form):
    """The list's query string. Invalid fields are reported on the page and left out of the query."""

    q = forms.CharField(max_length=100, required=False, label="Search name or brand")
    sort = forms.ChoiceField(choices=selectors.SORT_CHOICES, required=False, label="Sort")
    vram_min = forms.FloatField(required=False, min_value=0, max_value=1024, label="VRAM at least (GB)")
    vram_max = forms.FloatField(required=False, min_value=0, max_value=1024, label="VRAM at most (GB)")
    power_max = forms.FloatField(required=False, min_value=0, max_value=10000, label="Power at most (W)")
    price_max = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2, label="Max price"
    )
    socket = forms.ChoiceField(required=False, label="Socket")
    currency = forms.ChoiceField(
        choices=[(c, c) for c in selectors.LIST_CURRENCIES], required=False, label="Currency"
    )
    build = forms.CharField(max_length=32, required=False, label="Compatible with build (share id)")

    def __init__(self, *args, category: str, sockets: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sort"].widget.choices = selectors.sort_choices_for(category)
        if category != Category.GPU:
            del self.fields["vram_min"], self.fields["vram_max"]
        if category in selectors.POWER_LABEL:
            self.fields["power_max"].label = selectors.POWER_LABEL[category]
        else:
            del self.fields["power_max"]
        if category in selectors.SOCKET_CATEGORIES:
            self.fields["socket"].choices = [("", "any"), *((s, s) for s in sockets)]
        else:
            del self.fields["socket"]
        self.fields["q"].widget.attrs["placeholder"] = "e.g. 4090, ASUS"

    @staticmethod
    def column_class(name: str) -> str:
        # Two short fields a row on a phone keep the filters within one screen at 390 px.
        return "col-12 col-sm-6 col-lg-3" if name in ("q", "build", "sort") else "col-6 col-lg-3"

    def field_html(self, name: str) -> SafeString:
        """One field as Bootstrap 5 markup (label, control, errors), built here rather than by crispy-forms
        and the widget templates: the same markup at a fraction of the cost (issue 15, item 13: the filter
        form was a third of the list page's rendering time)."""
        bound = self[name]
        widget = bound.field.widget
        errors = self.errors.get(name) if self.is_bound else None
        attrs = {"name": name, **widget.attrs}
        value = bound.value()
        if isinstance(widget, forms.Select):
            attrs["class"] = "select form-select"
        else:
            attrs["type"] = widget.input_type
            shown = widget.format_value(value)
            if shown is not None:
                attrs["value"] = shown
            attrs["class"] = INPUT_CLASSES.get(widget.input_type, "form-control")
        if errors:
            attrs["class"] += " is-invalid"
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"id_{name}_error"
        attrs["id"] = f"id_{name}"
        if isinstance(widget, forms.Select):
            selected = "" if value is None else str(value)
            options = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (key, mark_safe(" selected") if str(key) == selected else "", text)
                    for key, text in widget.choices
                ),
            )
            control = format_html("<select{}>{}</select>", flatatt(attrs), options)
        else:
            control = format_html("<input{}>", flatatt(attrs))
        feedback = ""
        if errors:
            feedback = format_html(
                '<div id="id_{}_error" class="invalid-feedback">{}</div>',
                name,
                format_html_join(
                    "",
                    '<span id="error_{}_id_{}"><strong>{}</strong></span>',
                    ((i, name, e) for i, e in enumerate(errors, 1)),
                ),
            )
        return format_html(
            '<div class="{}"><div id="div_id_{}" class="mb-3"><label for="id_{}" class="form-label">{}</label>'
            "{}{}</div></div>",
            self.column_class(name),
            name,
            name,
            bound.label,
            control,
            feedback,
        )

    def filters_html(self) -> SafeString:
        """The whole GET form (no CSRF token: it changes nothing)."""
        return format_html(
            '<form class="parts-filters" method="get"><div class="row">{}</div>'
            '<button type="submit" class="btn btn-sm btn-primary">Apply</button></form>',
            mark_safe("".join(self.field_html(name) for name in self.fields)),  # noqa: S308 - format_html pieces
        )

    def clean(self):
        data = super().clean()
        low, high = data.get("vram_min"), data.get("vram_max")
        if low is not None and high is not None and low > high:
            self.add_error("vram_max", "Must be at least the minimum VRAM.")
        return data


@require_GET
def parts_list(request, category: str):
    selectors.category_model(category)  # 404 for an unknown category, before any other query
    form = PartFilterForm(request.GET, category=category, sockets=selectors.socket_choices(category))
    form.is_valid()  # cleaned_data keeps the valid fields; the invalid ones show their errors
    data = form.cleaned_data
    listing = selectors.part_list(
        category,
        q=data.get("q") or "",
        sort=data.get("sort") or "price",
        vram_min=data.get("vram_min"),
        vram_max=data.get("vram_max"),
        power_max=data.get("power_max"),
        price_max=data.get("price_max"),
        socket=data.get("socket") or "",
        build=(data.get("build") or "").strip(),
        currency=data.get("currency") or "USD",
        page=request.GET.get("page", 1),
    )
    if data.get("sort") and listing.sort != data["sort"]:
        # The sort fell back (a GPU-only sort on another category): the select shows what was applied.
        form.data = form.data.copy()
        form.data["sort"] = listing.sort
    context = {
        "form": form,
        "listing": listing,
        "rows_html": list_html.rows_html(listing),
        "category": category,
        "category_label": Category(category).label,
        "categories": selectors.categories(),
        "show_opendb_credit": listing.show_opendb_credit,
    }
    return TemplateResponse(request, "catalog/parts_list.html", context)


@require_GET
def part_detail(request, category: str, slug: str):
    currency = request.GET.get("currency", "USD")
    currency = currency if currency in selectors.LIST_CURRENCIES else "USD"
    detail = selectors.part_detail(category, slug, currency=currency)
    chart = price_history_svg(
        detail.series,
        currency=detail.currency,
        title=f"Price history of {detail.part.name} ({detail.currency})",
    )
    context = {
        "detail": detail,
        "part": detail.part,
        "chart": chart,
        "category": category,
        "category_label": Category(category).label,
        "currencies": selectors.LIST_CURRENCIES,
        "show_opendb_credit": bool(detail.part.opendb_id),
    }
    return TemplateResponse(request, "catalog/part_detail.html", context)
