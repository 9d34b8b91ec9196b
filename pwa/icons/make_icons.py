"""Draw the app icons (a white check mark on a document, on the theme colour) with zlib/struct only."""

import struct
import zlib
from pathlib import Path

BG = (0x0B, 0x5C, 0x4B)  # theme colour, deep green
FG = (255, 255, 255)
ACCENT = (0xF2, 0xC1, 0x4E)


def png(w, h, pixels):
    raw = b"".join(b"\0" + bytes(pixels[y * w * 3 : (y + 1) * w * 3]) for y in range(h))

    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def dist_seg(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0, min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    cx, cy = ax + t * dx, ay + t * dy
    return ((px - cx) ** 2 + (py - cy) ** 2) ** 0.5


def draw(size, maskable):
    s = size
    pix = bytearray(s * s * 3)
    # Safe zone for maskable icons is the central 80 %: draw smaller.
    k = 0.62 if maskable else 0.8
    x0, x1 = s * (0.5 - k * 0.36), s * (0.5 + k * 0.36)
    y0, y1 = s * (0.5 - k * 0.46), s * (0.5 + k * 0.46)
    for y in range(s):
        for x in range(s):
            c = BG
            if not maskable:
                # rounded square background; outside is the same colour (PNG without alpha kept simple)
                pass
            if x0 <= x <= x1 and y0 <= y <= y1:
                c = FG
                # lines of text on the document
                for i in range(3):
                    ly = y0 + (y1 - y0) * (0.16 + i * 0.12)
                    if abs(y - ly) < s * 0.012 and x0 + (x1 - x0) * 0.15 < x < x1 - (x1 - x0) * 0.15:
                        c = (0x9A, 0xB8, 0xB0)
                # check mark
                ax, ay = x0 + (x1 - x0) * 0.22, y0 + (y1 - y0) * 0.68
                bx, by = x0 + (x1 - x0) * 0.42, y0 + (y1 - y0) * 0.84
                cx, cy = x0 + (x1 - x0) * 0.80, y0 + (y1 - y0) * 0.50
                if min(dist_seg(x, y, ax, ay, bx, by), dist_seg(x, y, bx, by, cx, cy)) < s * 0.045 * k / 0.8:
                    c = BG
            i = (y * s + x) * 3
            pix[i : i + 3] = bytes(c)
    return png(s, s, pix)


out = Path("pwa/icons")
for size in (192, 512):
    (out / f"icon-{size}.png").write_bytes(draw(size, False))
    (out / f"maskable-{size}.png").write_bytes(draw(size, True))
print("ok")
