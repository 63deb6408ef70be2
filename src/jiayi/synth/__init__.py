"""Synthetic districts: a coherent, reproducible district of up to millions of residents for demos,
tests and benchmarks (``jiayi synth``). See :mod:`jiayi.synth.pipeline`."""
