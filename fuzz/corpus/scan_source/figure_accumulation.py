import matplotlib.pyplot as plt


def plot(data):
    fig, ax = plt.subplots()  # expect: figure_accumulation@15
    ax.plot(data)
    plt.show()


def plot_closed(data):
    """Near miss: closed."""
    fig, ax = plt.subplots()
    ax.plot(data)
    fig.savefig("out.png")
    plt.close(fig)


def make_figure(data):
    """Near miss: the figure is returned to the caller."""
    fig = plt.figure()
    fig.gca().plot(data)
    return fig


for i in range(3):
    plt.figure()  # expect: figure_accumulation@5
