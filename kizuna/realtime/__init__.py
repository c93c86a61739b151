"""Live pages and cross-process hints: events, the broker, SSE framing, LISTEN/NOTIFY."""
