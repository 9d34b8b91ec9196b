"""Evidence uploads (resumable chunks, stored by content hash). Owned by the PWA work."""
routes: list = []
