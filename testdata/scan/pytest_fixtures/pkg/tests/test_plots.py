import matplotlib.pyplot as plt


def test_line_plot():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    assert ax.lines


def test_many_figures():
    for i in range(5):
        plt.figure()
        plt.plot([i, i + 1])
