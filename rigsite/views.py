from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from builds.models import Build, Visibility


@require_GET
def home(request):
    examples = Build.objects.filter(visibility=Visibility.FEATURED).order_by("created_at")
    recent = Build.objects.filter(visibility=Visibility.PUBLIC).order_by("-updated_at")[:10]
    return TemplateResponse(request, "home.html", {"examples": examples, "recent": recent})
