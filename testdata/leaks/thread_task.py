"""Thread/task: every spawned thread is remembered after it finished."""
import threading
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class TaskManager:
    def __init__(self):
        self.tasks = []

    def spawn(self, fn):
        t = threading.Thread(target=fn)  # <- leak
        self.tasks.append(t)
        t.start()
        t.join()


MANAGER = TaskManager()


def work():
    return 1


def step(n):
    MANAGER.spawn(work)


_harness.run(step, "thread_task", units=40)
