"""Devices: register, list, revoke. (Owned by the sync work; see docs/sync-protocol.md.)"""
routes: list = []
