"""A variant the corpus runs live only (its dumps are not committed)."""
import asyncio
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402
BACKGROUND = []
loop = asyncio.new_event_loop()
async def job(n):
    return n
def step(n):
    t = loop.create_task(job(n))  # <- leak
    BACKGROUND.append(t)
    loop.run_until_complete(t)
_harness.run(step, "live_asyncio_tasks")
