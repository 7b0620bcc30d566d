"""What a browser posts for a Django admin change form as shown: every field's shown value, unchanged."""


def form_as_post(form) -> dict:
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else str(value)
    return data
