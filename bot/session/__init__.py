"""The interview session engine: plain Python, no front-end imports."""

from bot.session.engine import EngineContext, InterviewSession

__all__ = ["EngineContext", "InterviewSession"]
