"""Parts pages: a filtered, sorted list per category and a part's detail with topology and price history."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from catalog import selectors
from catalog.charts import price_history_svg
from catalog.models import Category


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
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.disable_csrf = True
        self.helper.form_class = "parts-filters"
        self.helper.layout = Layout(
            Row(*(Column(name, css_class=self.column_class(name)) for name in self.fields)),
            HTML('<button type="submit" class="btn btn-sm btn-primary">Apply</button>'),
        )

    @staticmethod
    def column_class(name: str) -> str:
        # Two short fields a row on a phone keep the filters within one screen at 390 px.
        return "col-12 col-sm-6 col-lg-3" if name in ("q", "build", "sort") else "col-6 col-lg-3"

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
