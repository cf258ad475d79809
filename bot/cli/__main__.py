"""`python -m bot.cli`, the same as the interview-bot console script."""

from bot.cli import main

raise SystemExit(main())
