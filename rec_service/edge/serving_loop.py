"""The asyncio event loop the gRPC server runs on, on a thread of its own, and the thread pool
for what a call must not do on that loop.

The loop answers every call; a call that would block (Spark, an fsync, a network round trip,
waiting for a lock that I/O holds) hands that part to `offload`, so one slow call never holds
up the others. The process's main thread keeps signals, start-up and shutdown, written as
ordinary synchronous code: it reaches the loop through `call`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class ServingLoop:
    def __init__(self, blocking_threads: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._blocking = ThreadPoolExecutor(blocking_threads, thread_name_prefix="rpc-blocking")
        self._thread = threading.Thread(target=self._run, name="movierec-grpc", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def call(self, work: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Runs `work` on the loop from another thread and returns its result."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    async def offload(self, work: Callable[[], T]) -> T:
        """Runs `work` on the blocking pool; the loop serves other calls meanwhile."""
        return await self._loop.run_in_executor(self._blocking, work)

    def close(self) -> None:
        """Stops the loop (its server stopped first) and lets the pool's threads finish."""
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._blocking.shutdown(wait=False, cancel_futures=True)
