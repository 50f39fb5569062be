import asyncio
import threading


class TaskManager:
    def __init__(self):
        self.tasks = []

    def spawn(self, fn):
        t = threading.Thread(target=fn)
        self.tasks.append(t)  # expect: thread_task@9
        t.start()


class PruningManager:
    """Near miss: finished threads are pruned first."""

    def __init__(self):
        self.tasks = []

    def spawn(self, fn):
        self.tasks = [t for t in self.tasks if t.is_alive()]
        t = threading.Thread(target=fn)
        self.tasks.append(t)
        t.start()


class Loop:
    def __init__(self):
        self.running = set()

    def go(self, coro):
        self.running.add(asyncio.ensure_future(coro))  # expect: thread_task@9


class DoneCallback:
    """Near miss: tasks remove themselves when done."""

    def __init__(self):
        self.running = set()

    def go(self, coro):
        task = asyncio.ensure_future(coro)
        self.running.add(task)
        task.add_done_callback(self.running.discard)


class Pool:
    """Near miss: threads are added only while their count is below the pool's size."""

    def __init__(self, max_workers):
        self._max_workers = max_workers
        self._threads = set()

    def _adjust_thread_count(self, fn):
        num_threads = len(self._threads)
        if num_threads < self._max_workers:
            t = threading.Thread(target=fn)
            t.start()
            self._threads.add(t)
