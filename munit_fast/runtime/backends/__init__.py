"""One module per inference backend, each with ``build(request) -> Backend``; the registry
(`munit_fast.runtime.registry`) lists them."""
