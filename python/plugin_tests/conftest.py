# Tests of leakhunt's pytest plugin (python/leakhunt/pytest_plugin.py), run with pytester:
#   LEAKHUNT_BIN=target/release/leakhunt PYTHONPATH=python python -m pytest -p pytester python/plugin_tests -q
pytest_plugins = ["pytester"]
