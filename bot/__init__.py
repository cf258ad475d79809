"""interview-bot: a self-hosted interview practice chatbot."""

__version__ = "0.1.0"
