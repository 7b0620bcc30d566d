from crispy_forms.helper import FormHelper
from django import forms

from builds.models import Visibility


class BuildSaveForm(forms.Form):
    """Rendered by hand in the configurator (it is re-rendered on every re-check; crispy costs ~10 ms)."""

    name = forms.CharField(
        max_length=200,
        initial="My deep-learning rig",
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    description = forms.CharField(
        max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"})
    )
    visibility = forms.ChoiceField(
        choices=[(Visibility.UNLISTED, "Unlisted: only people with the link"), (Visibility.PUBLIC, "Public")],
        initial=Visibility.UNLISTED,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class PickerForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, label="Search")
    sort = forms.ChoiceField(
        choices=[("price", "Price, low first"), ("-price", "Price, high first"), ("name", "Name")],
        required=False,
    )
    all = forms.BooleanField(required=False, label="Show incompatible parts too")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
