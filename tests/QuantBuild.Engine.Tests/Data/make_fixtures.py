#!/usr/bin/python3
"""Writes the small .npy/.npz fixtures the NpyReader/NpzReader tests read.

Run with Debian's numpy: /usr/bin/python3 tests/QuantBuild.Engine.Tests/Data/make_fixtures.py
The files are committed; rerun only when adding a case. Values are simple formulas of the flat index
(see value()) so the C# tests can recompute them instead of hard-coding tables.
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Fixtures")


def value(dtype, shape):
    """Element i is i - 5 for signed/float kinds, i for unsigned, i % 3 == 0 for bool; floats also get + i/4."""
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.int64)
    kind = np.dtype(dtype).kind
    if kind == "b":
        a = (i % 3) == 0
    elif kind == "u":
        a = i
    elif kind == "i":
        a = i - 5
    elif kind == "f":
        a = (i - 5) + i / 4.0
    elif kind == "c":
        a = (i - 5) + 1j * (i / 4.0)
    else:
        raise ValueError(dtype)
    return np.ascontiguousarray(a.astype(dtype).reshape(shape))


def save(name, array, version=None):
    with open(os.path.join(OUT, name), "wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=False)


def main():
    os.makedirs(OUT, exist_ok=True)
    for code in ["f2", "f4", "f8", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "b1", "c8", "c16"]:
        dtype = np.dtype(code).newbyteorder("<")
        save(f"{code}_2x3x4.npy", value(dtype, (2, 3, 4)))

    # Same data behind each header version: v2 and v3 only differ in the length field and encoding.
    save("f4_v1.npy", value("<f4", (5, 3)), version=(1, 0))
    save("f4_v2.npy", value("<f4", (5, 3)), version=(2, 0))
    save("f4_v3.npy", value("<f4", (5, 3)), version=(3, 0))

    save("scalar_f4.npy", np.array(3.5, dtype="<f4"))
    save("empty_0x3_i4.npy", np.zeros((0, 3), dtype="<i4"))
    save("rows_10x3_i4.npy", value("<i4", (10, 3)))

    # Inputs the reader must refuse.
    save("fortran_f4.npy", np.asfortranarray(value("<f4", (2, 3))))
    save("bigendian_i4.npy", value(">i4", (2, 3)))
    save("unicode_u5.npy", np.array(["ab", "cde"], dtype="<U5"))
    save("structured.npy", np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")]))

    np.savez_compressed(os.path.join(OUT, "deflated.npz"),
                        images=value("<f4", (4, 1, 2, 2)), labels=value("<i8", (4,)))
    np.savez(os.path.join(OUT, "stored.npz"), a=value("<u1", (3, 2)), b=np.array(7, dtype="<i2"))


if __name__ == "__main__":
    main()
