"""govbot's benchmarks: each measures govbot against a baseline taken in the same run.

Not shipped in the wheel. Run ``govbot bench WHAT`` from an editable install,
or ``python -m bench WHAT`` from the checkout's root; ``python -m
bench.webhook_latency`` for the end-to-end latency. See bench/README.md.
"""
