"""The interview session engine: plain Python, no front-end imports."""

from bot.session.context import EngineContext
from bot.session.engine import InterviewSession

__all__ = ["EngineContext", "InterviewSession"]
