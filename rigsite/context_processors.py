def site(request):
    # django-htmx's {% htmx_script %} reads `csp_nonce` from the context.
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
