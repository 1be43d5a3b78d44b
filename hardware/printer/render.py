"""A decoded receipt as a customer would see it: plain text, and a PNG with the QR code drawn."""

from __future__ import annotations

import os
import unicodedata
from functools import cache
from pathlib import Path

from hardware.printer.protocol import COLUMNS, Line, QrCode, Receipt

DOT_WIDTH = 576  # 80 mm at 203 dpi
BASE = 24  # font A: 12x24 dots; CJK 24x24
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


def display_width(text: str) -> int:
    """Columns a string takes on the printer: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def to_text(receipt: Receipt, columns: int = COLUMNS) -> str:
    """The receipt as monospaced text, aligned as printed."""
    out: list[str] = []
    for item in receipt.items:
        if isinstance(item, QrCode):
            content, align, scale = f"[QR] {item.data}", item.align, 1
        else:
            content, align, scale = item.text, item.align, item.width
        pad = max(columns - display_width(content) * scale, 0)
        left = {"left": 0, "center": pad // 2, "right": pad}[align]
        out.append((" " * left + content).rstrip())
    return "\n".join(out) + "\n"


def cjk_font_path() -> str | None:
    """A font with Chinese glyphs (SZ_RECEIPT_FONT overrides), or None: Debian's fonts-wqy-microhei."""
    env = os.environ.get("SZ_RECEIPT_FONT")
    if env and Path(env).is_file():
        return env
    return next((path for path in FONT_CANDIDATES if Path(path).is_file()), None)


@cache
def _font(size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    path = cjk_font_path()
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def to_png(receipt: Receipt, path: str | os.PathLike[str]) -> None:
    """Draw the receipt on a 576-dot-wide strip and save it as PNG."""
    import qrcode
    from PIL import Image, ImageDraw

    blocks: list[Image.Image] = []
    for item in receipt.items:
        if isinstance(item, QrCode):
            code = qrcode.QRCode(border=2, box_size=max(item.module, 2),
                                 error_correction=qrcode.constants.ERROR_CORRECT_M)
            code.add_data(item.data)
            block = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
            blocks.append(_aligned(block, item.align))
            continue
        line: Line = item
        height = BASE * line.height
        font = _font(height - 2)
        if not line.text:
            blocks.append(Image.new("L", (DOT_WIDTH, height), 255))
            continue
        _left, _top, right, bottom = font.getbbox(line.text)
        img = Image.new("L", (max(right, 1) + 2, max(height, bottom) + 4), 255)
        ImageDraw.Draw(img).text((0, 0), line.text, font=font, fill=0, stroke_width=1 if line.bold else 0,
                                 stroke_fill=0)
        if line.width != line.height:
            img = img.resize((max(1, img.width * line.width // line.height), img.height))
        if img.width > DOT_WIDTH:
            img = img.resize((DOT_WIDTH, img.height))
        blocks.append(_aligned(img, line.align))
    total = sum(b.height for b in blocks) + 32
    page = Image.new("L", (DOT_WIDTH, total), 255)
    y = 16
    for block in blocks:
        page.paste(block, (0, y))
        y += block.height
    page.save(path)


def _aligned(img, align: str):  # type: ignore[no-untyped-def]
    from PIL import Image

    strip = Image.new("L", (DOT_WIDTH, img.height), 255)
    x = {"left": 0, "center": (DOT_WIDTH - img.width) // 2, "right": DOT_WIDTH - img.width}[align]
    strip.paste(img, (max(x, 0), 0))
    return strip
