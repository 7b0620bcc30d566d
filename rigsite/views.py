from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from builds.models import Build


@require_GET
def home(request):
    examples = Build.objects.featured().order_by("created_at")
    recent = Build.objects.public().order_by("-updated_at")[:10]
    return TemplateResponse(request, "home.html", {"examples": examples, "recent": recent})


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: send them to the page's icon, not a 404 (the
    hashed static name is resolved per request, so a missing manifest never breaks URL loading)."""
    return HttpResponseRedirect(static("favicon.svg"))
