"""/recommend/ and POST /api/v1/recommend: the Django side of builds.recommend (catalogue, prices, input
validation, the page with its SVG chart, "Open in the configurator" and "Save")."""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal

from django import forms
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from builds import recommend as search
from builds.api import api_errors, api_methods, read_json
from builds.inputs import InputError, Line
from builds.planner import METHOD_CHOICES, runtime_choices
from catalog.engine import specs as engine
from catalog.engine import workload as engine_workload
from catalog.engine.estimator import INFERENCE_RUNTIMES
from catalog.engine.placement import Placement
from catalog.models import Currency
from catalog.specs import catalogue_queryset, spec_for
from catalog.workloads import presets

BODY_KEYS = {"workloads", "budget", "prices", "circuit", "max_gpus", "enclosure", "owned", "value_per"}
WORKLOAD_EXTRA = ("target_tokens_per_s", "target_days", "train_tokens")
MAX_OWNED = 16
_CATALOGUE: dict[tuple, dict] = {}


# ---------------------------------------------------------------------------------------------------------
# Catalogue and prices
# ---------------------------------------------------------------------------------------------------------
def _price(part, mode: str, rate: Decimal) -> tuple[float | None, str | None]:
    new, used = part.price_new_usd, part.price_used_usd
    if mode == "new":
        chosen = ("new", new) if new is not None else (None, None)
    elif mode == "used":
        chosen = ("used", used) if used is not None else (("new", new) if new is not None else (None, None))
    else:
        known = [(v, c) for c, v in (("used", used), ("new", new)) if v is not None]
        chosen = (min(known)[1], min(known)[0]) if known else (None, None)
    condition, usd = chosen
    if usd is None:
        return None, None
    return float((Decimal(usd) * rate).quantize(Decimal("0.01"))), condition


def catalogue(mode: str, currency: str) -> dict[str, list[search.Offer]]:
    """Curated, current parts as offers priced for this mode and currency (cached per catalogue version)."""
    from catalog.services import catalogue_version, exchange_rates

    key = (catalogue_version(), mode, currency)
    hit = _CATALOGUE.get(key)
    if hit is not None:
        return hit
    rates = exchange_rates()
    if currency not in rates:
        raise InputError("budget.currency", f"no exchange rate for {currency}")
    rate = Decimal(rates[currency])
    observed = _quote_dates()
    out: dict[str, list[search.Offer]] = {}
    for category in engine.CATEGORIES:
        offers = []
        for part in catalogue_queryset(category).filter(curated=True, retired=False).order_by("slug"):
            price, condition = _price(part, mode, rate)
            engine_price = part.price_usd
            offers.append(
                search.Offer(
                    slug=part.slug,
                    name=part.name,
                    category=category,
                    spec=spec_for(part),
                    price=price,
                    condition=condition,
                    engine_price=float(engine_price) if engine_price is not None else None,
                    price_observed=observed.get((part.pk, condition)) if condition else None,
                )
            )
        out[category] = offers
    if len(_CATALOGUE) > 32:
        _CATALOGUE.clear()
    _CATALOGUE[key] = out
    return out


def _quote_dates() -> dict[tuple[int, str], str]:
    """(part id, condition) -> date of the newest quote (what price_new_usd / price_used_usd come from)."""
    from django.db.models import Max

    from catalog.models import PriceQuote

    rows = (
        PriceQuote.objects.filter(part__curated=True)
        .order_by()
        .values("part_id", "condition")
        .annotate(newest=Max("observed_at"))
    )
    return {(r["part_id"], r["condition"]): r["newest"].date().isoformat() for r in rows if r["newest"]}


def stale_note(rigs: list[dict]) -> str | None:
    """Say which prices in the recommended rigs are older than the catalogue's staleness limit."""
    from datetime import date, timedelta

    from django.conf import settings

    limit = date.today() - timedelta(days=settings.RIGSITE_PRICE_STALE_DAYS)
    found = {
        (p["category"] != "gpu", f"{p['name']} ({p['condition']}, {p['price_observed_at']})")
        for rig in rigs
        for p in rig["parts"]
        if p.get("price_observed_at") and date.fromisoformat(p["price_observed_at"]) < limit
    }
    old = [text for _, text in sorted(found)]  # the GPUs first: they are most of the price
    if not old:
        return None
    return (
        f"{len(old)} price(s) in these rigs are older than {settings.RIGSITE_PRICE_STALE_DAYS} days (launch "
        f"prices or old quotes; today's may differ): {'; '.join(old[:6])}{' ...' if len(old) > 6 else ''}"
    )


# ---------------------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------------------
def _number(value, where: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(where, "must be a number")
    if not lo <= value <= hi or value != value:
        raise InputError(where, f"must be between {lo:g} and {hi:g}")
    return float(value)


def _engine_workloads(raw: list[dict]) -> tuple[list[dict], list[str]]:
    """The workloads as the engine's context takes them; a field this estimator does not know yet (runtime,
    before the runtime-aware model lands) is dropped with a note rather than refused."""
    notes = []
    items = [dict(w) for w in raw]
    for _ in range(4):
        try:
            engine_workload.validate_workloads(items, presets())
            return items, notes
        except engine.SpecError as exc:
            field = exc.field
            try:
                index = int(field.split("[", 1)[1].split("]", 1)[0])
            except (IndexError, ValueError):
                raise InputError(field.replace("context.", ""), exc.message) from None
            key = field.rsplit(".", 1)[-1]
            if key == "runtime" and "runtime" in items[index] and exc.message == "unknown field":
                notes.append(f"workloads[{index}].runtime: not modelled by this estimator yet; ignored")
                items[index].pop("runtime")
                continue
            raise InputError(field.replace("context.", ""), exc.message) from None
    return items, notes


def parse_request(body: dict) -> tuple[search.Request, list[str]]:
    for key in body:
        if key not in BODY_KEYS:
            raise InputError(key, "unknown field")
    raw = body.get("workloads")
    if not isinstance(raw, list) or not raw:
        raise InputError("workloads", "required: a list of 1 to 8 workloads")
    if len(raw) > 8:
        raise InputError("workloads", "at most 8 workloads")
    requests, extras = [], []
    for i, w in enumerate(raw):
        if not isinstance(w, dict):
            raise InputError(f"workloads[{i}]", "must be an object")
        extra = {}
        for k in WORKLOAD_EXTRA:
            if k in w and w[k] is not None:
                hi = 1e15 if k == "train_tokens" else 1e6
                extra[k] = _number(w[k], f"workloads[{i}].{k}", 1e-6, hi)
        if "target_days" in extra and "train_tokens" not in extra:
            raise InputError(f"workloads[{i}].train_tokens", "needed with target_days")
        extras.append(extra)
        requests.append({k: v for k, v in w.items() if k not in WORKLOAD_EXTRA})
    engine_items, notes = _engine_workloads(requests)
    workloads = []
    for i, (item, extra) in enumerate(zip(engine_items, extras, strict=True)):
        model = item.get("model")
        name = model if isinstance(model, str) else f"custom model {i + 1}"
        label = f"{name} {item.get('method', 'inference')} {item.get('precision', '')}".strip()
        workloads.append(search.Workload(item, label, **extra))
    budget = body.get("budget")
    amount, currency = None, "USD"
    if budget is not None:
        if not isinstance(budget, dict):
            raise InputError("budget", "must be an object {amount, currency}")
        for key in budget:
            if key not in ("amount", "currency"):
                raise InputError(f"budget.{key}", "unknown field")
        if budget.get("amount") is not None:
            amount = _number(budget["amount"], "budget.amount", 1, 1e9)
        currency = budget.get("currency") or "USD"
        if currency not in Currency.values:
            raise InputError("budget.currency", f"one of {', '.join(Currency.values)}")
    prices = body.get("prices", "any")
    if prices not in search.PRICE_MODES:
        raise InputError("prices", f"one of {', '.join(search.PRICE_MODES)}")
    circuit = body.get("circuit", "120v-15a")
    try:
        engine.parse_context({"circuit": circuit})
    except engine.SpecError as exc:
        raise InputError(exc.field.replace("context.", ""), exc.message) from None
    max_gpus = body.get("max_gpus", 4)
    if isinstance(max_gpus, bool) or not isinstance(max_gpus, int) or not 1 <= max_gpus <= 8:
        raise InputError("max_gpus", "an integer from 1 to 8")
    enclosure = body.get("enclosure", "any")
    if enclosure not in search.ENCLOSURES:
        raise InputError("enclosure", f"one of {', '.join(search.ENCLOSURES)}")
    value_per = body.get("value_per", "currency")
    if value_per not in search.VALUE_PER:
        raise InputError("value_per", f"one of {', '.join(search.VALUE_PER)}")
    owned_raw = body.get("owned") or []
    if not isinstance(owned_raw, list) or len(owned_raw) > MAX_OWNED:
        raise InputError("owned", f"a list of at most {MAX_OWNED} {{slug, quantity}}")
    owned: dict[str, int] = {}
    for i, item in enumerate(owned_raw):
        if not isinstance(item, dict):
            raise InputError(f"owned[{i}]", "must be an object {slug, quantity}")
        for key in item:
            if key not in ("slug", "quantity"):
                raise InputError(f"owned[{i}].{key}", "unknown field")
        slug = item.get("slug")
        if not isinstance(slug, str) or not slug or len(slug) > 220:
            raise InputError(f"owned[{i}].slug", "must be a part slug")
        qty = item.get("quantity", 1)
        if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= 16:
            raise InputError(f"owned[{i}].quantity", "an integer from 1 to 16")
        owned[slug] = owned.get(slug, 0) + qty
    request = search.Request(
        workloads=tuple(workloads),
        budget=amount,
        currency=currency,
        prices=prices,
        circuit=circuit,
        max_gpus=max_gpus,
        enclosure=enclosure,
        owned=tuple(owned.items()),
        value_per=value_per,
        presets=presets(),
    )
    return request, notes


def _check_owned(request: search.Request, offers: dict[str, list[search.Offer]]) -> None:
    by_slug = {o.slug: o for items in offers.values() for o in items}
    for i, (slug, qty) in enumerate(request.owned):
        offer = by_slug.get(slug)
        if offer is None:
            raise InputError(f"owned[{i}].slug", f"no current curated part {slug!r} in the catalogue")
        if offer.category == "gpu" and qty > request.max_gpus:
            raise InputError(f"owned[{i}].quantity", f"more GPUs owned ({qty}) than max_gpus")


def run(body: dict) -> dict:
    request, notes = parse_request(body)
    offers = catalogue(request.prices, request.currency)
    _check_owned(request, offers)
    try:
        result = search.recommend(request, offers)
    except search.RecommendError as exc:
        raise InputError(exc.field, exc.message) from None
    out = asdict(result)
    out["notes"] = notes + out["notes"]
    stale = stale_note(out["rigs"])
    if stale:
        out["notes"].append(stale)
    for rig in out["rigs"]:
        rig["findings"] = check_findings(rig)
        rig["configurator_url"] = configurator_url(rig)
    if out.get("closest"):
        out["closest"]["configurator_url"] = configurator_url(out["closest"])
    return out


def check_findings(rig: dict) -> list[dict]:
    """The rig's findings exactly as POST /api/v1/check gives them for its parts and context (same parsing,
    same report path). The search's own check ran on the same parts, so the verdict is the same; this makes
    the promise hold whatever the API layer adds."""
    from builds.api import parse_check_body
    from builds.reports import report_for

    lines, context = parse_check_body(
        {"parts": [_api_part(p) for p in rig["parts"]], "context": rig["context"]}
    )
    return report_for(lines, context)["findings"]


def configurator_url(rig: dict) -> str:
    from builds.configurator.state import State

    lines = [
        Line(
            slug=p["slug"],
            quantity=p["quantity"],
            placement=Placement.from_json({k: v for k, v in p.items() if v}),
        )
        for p in rig["parts"]
    ]
    from builds.configurator.state import circuit_label

    state = State(
        lines=lines, circuit=circuit_label(rig["context"]["circuit"]), currency=rig["price"]["currency"]
    )
    return f"{reverse('build-new')}?{state.query()}"


# ---------------------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------------------
@csrf_exempt
@api_methods(["POST"])
@ratelimit(key="ip", rate="rigsite.ratelimits.lookups", block=True)
@api_errors
def recommend_api(request):
    return JsonResponse(run(read_json(request)))


# ---------------------------------------------------------------------------------------------------------
# Page
# ---------------------------------------------------------------------------------------------------------
CUSTOM_CIRCUIT = "custom"


class RecommendForm(forms.Form):
    model = forms.ChoiceField(choices=())
    method = forms.ChoiceField(choices=METHOD_CHOICES)
    precision = forms.ChoiceField(
        choices=[(p, p) for p in ("q4", "q5", "q8", "nf4", "int8", "bf16", "amp")], initial="q4"
    )
    runtime = forms.ChoiceField(choices=runtime_choices(INFERENCE_RUNTIMES, "default"), required=False)
    seq_len = forms.IntegerField(min_value=128, max_value=131072, initial=8192, label="Context (tokens)")
    target_tokens_per_s = forms.FloatField(
        required=False, min_value=0.01, label="Target tokens/s (inference decode, training throughput)"
    )
    train_tokens_b = forms.FloatField(
        required=False, min_value=0.001, max_value=1e6, label="Training: tokens (billions)"
    )
    target_days = forms.FloatField(
        required=False, min_value=0.01, max_value=1e5, label="Training: days at most"
    )
    model_2 = forms.ChoiceField(choices=(), required=False, label="Second workload: model")
    method_2 = forms.ChoiceField(choices=(), required=False, label="Second: method")
    precision_2 = forms.ChoiceField(choices=(), required=False, label="Second: precision")
    seq_len_2 = forms.IntegerField(min_value=128, max_value=131072, required=False, label="Second: context")
    target_tokens_per_s_2 = forms.FloatField(required=False, min_value=0.01, label="Second: target tokens/s")
    budget = forms.FloatField(required=False, min_value=1, initial=3000)
    currency = forms.ChoiceField(choices=Currency.choices, initial="USD")
    prices = forms.ChoiceField(
        choices=[("any", "new or used (the lower)"), ("used", "used where known"), ("new", "new")],
        initial="any",
    )
    circuit = forms.ChoiceField(choices=(), initial="120v-15a")
    circuit_volts = forms.FloatField(required=False, label="Custom circuit: volts")
    circuit_amps = forms.FloatField(required=False, label="Custom circuit: amps")
    max_gpus = forms.IntegerField(min_value=1, max_value=8, initial=4)
    enclosure = forms.ChoiceField(
        choices=[("any", "case or open frame"), ("case", "case"), ("open_frame", "open frame")], initial="any"
    )
    owned_gpu = forms.ChoiceField(choices=(), required=False, label="GPU you already own")
    owned_gpu_count = forms.IntegerField(min_value=1, max_value=8, initial=1, required=False)
    value_per = forms.ChoiceField(
        choices=[("currency", "tokens/s per currency unit"), ("watt", "tokens/s per watt")],
        initial="currency",
    )

    def __init__(self, *args, **kwargs):
        from builds.configurator.state import CIRCUIT_CHOICES
        from catalog.models import Gpu, ModelPreset

        super().__init__(*args, **kwargs)
        self.fields["model"].choices = list(ModelPreset.objects.values_list("slug", "name"))
        self.fields["model_2"].choices = [("", "none")] + self.fields["model"].choices
        self.fields["method_2"].choices = self.fields["method"].choices
        self.fields["precision_2"].choices = self.fields["precision"].choices
        self.fields["circuit"].choices = [*CIRCUIT_CHOICES, (CUSTOM_CIRCUIT, "Custom (volts and amps below)")]
        gpus = Gpu.objects.filter(curated=True, retired=False).order_by("name").values_list("slug", "name")
        self.fields["owned_gpu"].choices = [("", "none")] + list(gpus)

    def clean(self):
        d = super().clean()
        if d.get("circuit") == CUSTOM_CIRCUIT:
            for name in ("circuit_volts", "circuit_amps"):
                if d.get(name) is None:
                    self.add_error(name, "Required for a custom circuit.")
            if not self.errors:
                try:  # the engine's own bounds: one validation range everywhere
                    engine.parse_context(
                        {"circuit": {"volts": d["circuit_volts"], "amps": d["circuit_amps"]}}
                    )
                except engine.SpecError as exc:
                    self.add_error("circuit_volts", exc.message)
        return d

    def _workload(self, suffix: str = "") -> dict | None:
        d = self.cleaned_data
        model = d.get(f"model{suffix}")
        if not model:
            return None
        method = d.get(f"method{suffix}") or "inference"
        precision = d.get(f"precision{suffix}") or "q4"
        if method == "qlora":
            precision = "nf4"
        elif method == "lora":
            precision = "bf16"
        elif method == "full" and precision not in ("amp", "bf16"):
            precision = "amp"
        elif method == "inference" and precision == "amp":
            precision = "bf16"
        workload = {
            "model": model,
            "method": method,
            "precision": precision,
            "seq_len": d.get(f"seq_len{suffix}") or (8192 if method == "inference" else 2048),
        }
        if not suffix and d.get("runtime"):
            workload["runtime"] = d["runtime"]
        if d.get(f"target_tokens_per_s{suffix}"):
            workload["target_tokens_per_s"] = d[f"target_tokens_per_s{suffix}"]
        if not suffix and method != "inference" and d.get("target_days") and d.get("train_tokens_b"):
            workload["target_days"] = d["target_days"]
            workload["train_tokens"] = d["train_tokens_b"] * 1e9
        return workload

    def body(self) -> dict:
        d = self.cleaned_data
        workloads = [w for w in (self._workload(), self._workload("_2")) if w]
        circuit = d["circuit"]
        if circuit == CUSTOM_CIRCUIT:
            circuit = {"volts": d["circuit_volts"], "amps": d["circuit_amps"]}
        elif circuit not in engine.CIRCUITS:
            volts, amps = circuit.rstrip("a").split("v-")
            circuit = {"volts": float(volts), "amps": float(amps)}
        body = {
            "workloads": workloads,
            "prices": d["prices"],
            "circuit": circuit,
            "max_gpus": d["max_gpus"],
            "enclosure": d["enclosure"],
            "value_per": d["value_per"],
        }
        if d.get("budget"):
            body["budget"] = {"amount": d["budget"], "currency": d["currency"]}
        else:
            body["budget"] = {"currency": d["currency"]}
        if d.get("owned_gpu"):
            body["owned"] = [{"slug": d["owned_gpu"], "quantity": d.get("owned_gpu_count") or 1}]
        return body


def chart_svg(candidates: list[dict], currency: str) -> str:
    """Price (x) against speed (y) of the rigs the search evaluated; recommended ones marked and labelled."""
    points = [c for c in candidates if c.get("speed") and c.get("price") is not None]
    if not points:
        return ""
    # A 360-unit canvas, as the other diagrams: text stays readable when a phone shrinks it to its width.
    w, h, pad = 360, 230, 36
    max_x = max(c["price"] for c in points) * 1.1 or 1
    max_y = max(c["speed"] for c in points) * 1.1 or 1

    def x(v):
        return pad + (w - 2 * pad) * v / max_x

    def y(v):
        return h - pad - (h - 2 * pad) * v / max_y

    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="{}" class="{}"><title>{}: {} {}, {} tokens/s{}</title></circle>{}',
        (
            (
                f"{x(c['price']):.1f}",
                f"{y(c['speed']):.1f}",
                6 if c["recommended"] else 4,
                "svg-series-1" if c["recommended"] else ("svg-series-0" if c["valid"] else "svg-muted"),
                c["label"],
                f"{c['price']:,.0f}",
                currency,
                f"{c['speed']:.1f}",
                "" if c["valid"] else " (rejected by the engine)",
                format_html(
                    '<text x="{}" y="{}" text-anchor="{}" class="svg-label" paint-order="stroke" stroke="#fff" '
                    'stroke-width="4">{}</text>',
                    f"{x(c['price']) + (-8 if x(c['price']) > w * 0.55 else 8):.1f}",
                    f"{y(c['speed']) - 8:.1f}",
                    "end" if x(c["price"]) > w * 0.55 else "start",
                    ", ".join(label.replace("_", " ") for label in c["recommended"]),
                )
                if c["recommended"]
                else "",
            )
            for c in points
        ),
    )
    return format_html(
        '<svg viewBox="0 0 {} {}" role="img" aria-label="Price against speed of the rigs considered" '
        'class="diagram recommend-chart">'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="svg-axis" stroke="currentColor"></line>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="svg-axis" stroke="currentColor"></line>'
        '<text x="{}" y="{}" class="svg-muted">price ({}), up to {}</text>'
        '<text x="4" y="14" class="svg-muted">tokens/s (geometric mean), up to {}</text>{}</svg>',
        w,
        h,
        pad,
        h - pad,
        w - pad,
        h - pad,
        pad,
        pad,
        pad,
        h - pad,
        pad,
        h - 10,
        currency,
        f"{max_x / 1.1:,.0f}",
        f"{max_y / 1.1:,.1f}",
        dots,
    )


PAGE_DEFAULTS = {
    "model": "llama-3.1-70b",
    "method": "inference",
    "precision": "q4",
    "seq_len": "8192",
    "budget": "3000",
    "currency": "USD",
    "prices": "any",
    "circuit": "120v-15a",
    "max_gpus": "4",
    "enclosure": "any",
    "value_per": "currency",
}


def recommend_page(request):
    params = None
    if request.GET:
        # A link that names only some fields (the /plan/ link: model, method, precision, context) takes the
        # defaults for the others.
        params = {**PAGE_DEFAULTS, **{k: request.GET.get(k) for k in request.GET}}
    form = RecommendForm(params, initial=PAGE_DEFAULTS)
    context = {"form": form, "result": None}
    if params is not None and form.is_valid():
        try:
            result = run(form.body())
        except InputError as exc:
            form.add_error(None, f"{exc.field}: {exc.message}")
        else:
            context["result"] = result
            context["chart"] = chart_svg(result["candidates"], form.cleaned_data["currency"])
            for rig in result["rigs"]:
                rig["save_body"] = json.dumps(
                    {"parts": [_api_part(p) for p in rig["parts"]], "context": rig["context"]}
                )
    template = (
        "builds/_recommend_result.html" if request.headers.get("HX-Request") else "builds/recommend.html"
    )
    return render(request, template, context)


def _api_part(p: dict) -> dict:
    out = {"slug": p["slug"], "quantity": p["quantity"]}
    for key in ("slots", "riser", "riser_width", "psu", "power_limit_w"):
        if p.get(key) is not None:
            out[key] = p[key]
    return out


@require_http_methods(["POST"])
@ratelimit(key="ip", rate="rigsite.ratelimits.writes", block=True)
def recommend_save(request):
    """Save one recommended rig as a build (the configurator's own save path) and open it."""
    from builds import edit_keys, services
    from builds.api import parse_check_body

    try:
        body = json.loads(request.POST.get("rig") or "{}")
        if not isinstance(body, dict):
            raise InputError("rig", "must be an object")
        lines, _ = parse_check_body({"parts": body.get("parts") or [], "context": body.get("context") or {}})
    except (ValueError, InputError) as exc:
        return JsonResponse({"error": {"field": "rig", "message": str(exc)}}, status=400)
    context = dict(body.get("context") or {})
    workloads = context.pop("workloads", [])
    currency = context.pop("currency", "USD")
    name = (request.POST.get("name") or "Recommended rig")[:200]
    build, token = services.build_create(
        items=lines,
        by=request.user,
        context=context,
        workloads=workloads,
        name=name,
        currency=currency if currency in Currency.values else "USD",
    )
    response = HttpResponseRedirect(build.get_absolute_url())
    return edit_keys.remember(request, response, build.share_id, token) or response
