"""The original-format configs shipped with munit-fast: the original MUNIT masters and the built-in demo."""
