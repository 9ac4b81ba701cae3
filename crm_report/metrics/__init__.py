"""Metrics: pure functions, DataFrame in, DataFrame (or a small dataclass) out. No I/O, no printing."""
