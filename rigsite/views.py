from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from builds.models import Build


@require_GET
def home(request):
    examples = Build.objects.featured().order_by("created_at")
    recent = Build.objects.public().order_by("-updated_at")[:10]
    return TemplateResponse(request, "home.html", {"examples": examples, "recent": recent})
