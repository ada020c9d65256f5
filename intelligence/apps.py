from django.apps import AppConfig


class IntelligenceConfig(AppConfig):
    """The read side: customer intelligence and statistics. No models of its own."""

    name = "intelligence"
