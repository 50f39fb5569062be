import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def scratch_file(tmp_path):
    fh = open(tmp_path / "scratch.txt", "w")
    yield fh
    fh.close()
