from pkg.testing.fixtures import close_figures, scratch_file  # noqa: F401
