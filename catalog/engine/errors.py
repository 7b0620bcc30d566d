"""The one input error of the project: bad input named by its field.

It lives in the engine, the bottom layer, so the engine, `catalog` and `builds` raise and catch the same
class; the API turns it into a 400 naming ``field`` (docs/api.md "Errors")."""


class InputError(ValueError):
    """Invalid input; ``field`` names the offending field (e.g. "parts[2].quantity", "gpu.vram_gb")."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
