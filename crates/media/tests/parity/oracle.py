#!/usr/bin/env python3
"""Hash image files with the PyPI `pdqhash` (Meta's reference C++).

Usage: oracle.py FILE...   (or file names on stdin, one a line)
Prints `path<TAB>hex<TAB>quality` per file, then on stderr the time spent
decoding (Pillow) and hashing, one thread, in images per second.
"""
import sys
import time

import numpy as np
import pdqhash
from PIL import Image


def to_hex(bits):
    # pdqhash returns bit 255 first; the reference prints it first too.
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def main():
    files = sys.argv[1:] or [l.strip() for l in sys.stdin if l.strip()]
    decode = hashing = 0.0
    for f in files:
        t0 = time.perf_counter()
        img = np.asarray(Image.open(f).convert("RGB"))
        t1 = time.perf_counter()
        bits, q = pdqhash.compute(img)
        t2 = time.perf_counter()
        decode += t1 - t0
        hashing += t2 - t1
        print(f"{f}\t{to_hex(bits)}\t{q}")
    n = len(files)
    if n:
        print(
            f"pdqhash: {n} images; decode+hash {n / (decode + hashing):.2f} img/s, "
            f"hash only {n / hashing:.2f} img/s (one thread)",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
