import matplotlib.pyplot as plt


def test_many_figures():
    for i in range(5):
        plt.figure()  # expect: figure_accumulation@9
        plt.plot([i, i + 1])
