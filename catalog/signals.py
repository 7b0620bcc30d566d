"""Every saved or deleted catalogue row bumps the catalogue version when its transaction commits.

Parts (every category), board slots, M.2 sockets and lane rules, price quotes, exchange rates, cloud
offers and model presets: whatever a cached part or report could have read. Connected in
CatalogConfig.ready; the version itself (CatalogueVersion) and the history tables are left out."""

from django.db.models.signals import post_delete, post_save

from catalog.models import CatalogueVersion
from catalog.services import catalogue_changed, in_catalogue_bulk_write


def versioned_models(app_config) -> list[type]:
    """The catalogue models whose rows a cache can depend on."""
    return [
        model
        for model in app_config.get_models()
        if model is not CatalogueVersion and not hasattr(model, "history_object")
    ]


def on_catalogue_write(sender, using=None, **kwargs) -> None:
    if not in_catalogue_bulk_write():  # a bulk write bumps once, when it ends
        catalogue_changed(using)


def connect(app_config) -> None:
    for model in versioned_models(app_config):
        for signal in (post_save, post_delete):
            signal.connect(
                on_catalogue_write, sender=model, dispatch_uid=f"catalogue-version:{model.__name__}"
            )
