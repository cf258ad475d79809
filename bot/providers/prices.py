"""Price per million tokens (input, output) in USD, by model name prefix. Local servers cost 0.

Prices change: keep this table current, and say in the README that costs are estimates.
"""

from __future__ import annotations

PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
}


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    """Cost of one call; 0.0 for models not in the table (local or unknown)."""
    match = max((p for p in PRICES if model.startswith(p)), key=len, default=None)
    if match is None:
        return 0.0
    price_in, price_out = PRICES[match]
    return round((input_tokens * price_in + output_tokens * price_out) / 1_000_000, 6)
