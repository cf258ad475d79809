"""The interview session engine: plain Python, no front-end imports."""

from bot.interview.context import EngineContext
from bot.interview.engine import InterviewSession

__all__ = ["EngineContext", "InterviewSession"]
