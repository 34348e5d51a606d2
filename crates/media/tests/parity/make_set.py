#!/usr/bin/env python3
"""Build the PDQ parity image set from real photographs in Debian packages.

Usage: make_set.py SRC_DIR... OUT_DIR

Every .jpg under the SRC_DIRs (the wallpaper packages' photographs; see
.ci/media-parity) is scaled to at most 1600 px on its longest side and saved
as OUT_DIR/<name>/original.jpg, with one file per transformation beside it:
resize (half size), jpeg40 (re-encoded at quality 40), crop5 (5 % cut from
the edges), brightness (+30 %), grayscale, caption (a band with text over
the bottom 12 %), rotate3 (3 degrees, same frame). Deterministic.
"""
import os
import sys

from PIL import Image, ImageDraw, ImageEnhance

MAX_SIDE = 1600


def transforms(img):
    w, h = img.size
    yield "resize", img.resize((w // 2, h // 2), Image.LANCZOS), 92
    yield "jpeg40", img, 40
    dx, dy = int(w * 0.025), int(h * 0.025)
    yield "crop5", img.crop((dx, dy, w - dx, h - dy)), 92
    yield "brightness", ImageEnhance.Brightness(img).enhance(1.3), 92
    yield "grayscale", img.convert("L").convert("RGB"), 92
    cap = img.copy()
    d = ImageDraw.Draw(cap)
    band = int(h * 0.12)
    d.rectangle((0, h - band, w, h), fill=(0, 0, 0))
    d.text((w // 20, h - band + band // 3), "SHARE BEFORE THEY DELETE THIS", fill=(255, 255, 255))
    yield "caption", cap, 92
    yield "rotate3", img.rotate(3, resample=Image.BICUBIC), 92


def main():
    *srcs, out = sys.argv[1:]
    photos = []
    for src in srcs:
        for root, _, files in os.walk(src):
            photos += [os.path.join(root, f) for f in files if f.lower().endswith((".jpg", ".jpeg"))]
    photos.sort()
    n = 0
    for p in photos:
        img = Image.open(p).convert("RGB")
        scale = MAX_SIDE / max(img.size)
        if scale < 1:
            img = img.resize((round(img.size[0] * scale), round(img.size[1] * scale)), Image.LANCZOS)
        name = os.path.splitext(os.path.basename(p))[0]
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        img.save(os.path.join(d, "original.jpg"), quality=92)
        for t, im, q in transforms(img):
            im.save(os.path.join(d, t + ".jpg"), quality=q)
        n += 1
    print(f"{n} photographs, {n * 8} images in {out}")


if __name__ == "__main__":
    main()
