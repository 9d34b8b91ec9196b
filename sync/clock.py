"""Device clocks: when was an edit made, in server time?

A phone's clock may be years off or in the wrong zone. At every push the device sends its clock
(`client_ms`); the server measures `offset = received_ms - client_ms` and corrects the device times of the
edits in that push: `effective_ms = device_ms + offset`, never later than `received_ms` (an edit cannot
have been made after the server received it). The order of two edits is (effective_ms, device_id, seq):
ties are broken deterministically, the same way on every server process.
"""

from __future__ import annotations


def clock_offset(received_ms: int, client_ms: int) -> int:
    """Server time minus device time, measured when a push arrives."""
    return received_ms - client_ms


def effective_ms(device_ms: int, offset_ms: int, received_ms: int) -> int:
    return min(device_ms + offset_ms, received_ms)


def order_key(ms: int, device_id: str, seq: int) -> tuple[int, str, int]:
    """Later keys win a conflict."""
    return (ms, device_id, seq)
