"""The demo: :mod:`backend.demo.seeding` puts a realistic cast and its business on a chain (tests and
benches use it as a library); :mod:`backend.demo.supervisor` runs ``yinqi demo``, the chain, broker
and services as processes."""
