"""Candidate answers several test modules share, written for the purpose."""

from __future__ import annotations

# dd-kv-cache: a strong answer in a candidate's own words (not the reference's).
KV_GOOD = (
    "The KV cache stores the keys and values of all previous tokens for each layer and head, "
    "so each decoding step only computes the new token's projections instead of re-running "
    "the whole prefix; per-step work becomes linear in the context length. The size is 2 x "
    "layers x kv heads x head dim x bytes x tokens, about half a megabyte per token for a 7B "
    "model in fp16, so 4k tokens take 2 GB per sequence. Decoding is memory-bandwidth bound "
    "and the cache limits the batch size. vLLM pages it in blocks with PagedAttention and "
    "grouped-query attention shrinks it."
)

# coding-coin-change: the greedy solution, which fails the hidden "greedy trap" tests.
GREEDY_COINS = """Take the largest coin that still fits, as often as it fits.

```python
def coin_change(coins, amount):
    used = 0
    for coin in sorted(coins, reverse=True):
        used += amount // coin
        amount %= coin
    return used if amount == 0 else -1
```
"""
