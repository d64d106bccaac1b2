"""Ctrl-C stops a run, whoever is running when it arrives.

Samplers and compilers catch KeyboardInterrupt for their own reasons: nutpie returns the draws it has,
and a compile step can swallow it and carry on. So the CLI's SIGINT handler also records the interrupt,
and the spine checks that record between stages (`check`), before anything is written: an interrupted
run exits 130 and leaves no report, whatever a library did with the exception.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells and schedulers expect
_interrupted = threading.Event()


def _handler(signum, frame) -> None:
    _interrupted.set()
    raise KeyboardInterrupt


@contextlib.contextmanager
def watching():
    """Record every SIGINT while the block runs (main thread only; elsewhere a no-op)."""
    _interrupted.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _handler)
    previous_hook = sys.unraisablehook

    def quiet_interrupts(unraisable) -> None:
        """A KeyboardInterrupt raised inside a C callback (a JIT's cache hook) cannot propagate, and Python
        would print its traceback: it is recorded already, so say nothing more."""
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous_hook(unraisable)

    sys.unraisablehook = quiet_interrupts
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook


def forget() -> None:
    """The record belongs to one run: once it has been acted on, the next run in this process starts clean."""
    _interrupted.clear()


def interrupted() -> bool:
    return _interrupted.is_set()


def check() -> None:
    """Raise KeyboardInterrupt if an interrupt arrived, even one a library caught and ignored."""
    if _interrupted.is_set():
        raise KeyboardInterrupt
