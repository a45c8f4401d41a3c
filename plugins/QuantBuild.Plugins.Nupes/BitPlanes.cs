namespace QuantBuild.Plugins.Nupes;

/// <summary>
/// b-bit codes stored as bit planes of 8, 4, 2 or 1 bits per code (b = 8: one byte; 7 = 4+2+1; 6 = 4+2; 5 = 4+1;
/// 4: two codes per byte; 3 = 2+1; 2: four codes per byte), so a layer takes exactly b bits per weight plus at most a
/// byte of padding per plane. Within a byte, code j of a plane of width k sits in bits [j·k, (j+1)·k), LSB first.
/// The widest plane carries the code's high bits.
/// </summary>
internal static class BitPlanes
{
    /// <summary>(width, bit offset in the code) per plane, widest first.</summary>
    public static IReadOnlyList<(int Width, int Offset)> Layout(int bits)
    {
        if (bits is < 1 or > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(bits));
        }

        var planes = new List<(int, int)>();
        int remaining = bits;
        foreach (int width in new[] { 8, 4, 2, 1 })
        {
            if (remaining >= width)
            {
                remaining -= width;
                planes.Add((width, remaining));
            }
        }

        return planes;
    }

    /// <summary>Bytes one plane of <paramref name="width"/> bits takes for <paramref name="count"/> codes.</summary>
    public static int PlaneBytes(int width, int count) => (int)(((long)count * width + 7) / 8);

    /// <summary>Packs <paramref name="codes"/> (each in [0, 2^bits)) into the planes of <see cref="Layout"/>.</summary>
    public static byte[][] Pack(ReadOnlySpan<int> codes, int bits)
    {
        IReadOnlyList<(int Width, int Offset)> layout = Layout(bits);
        var planes = new byte[layout.Count][];
        for (int p = 0; p < layout.Count; p++)
        {
            (int width, int offset) = layout[p];
            int perByte = 8 / width;
            int mask = (1 << width) - 1;
            var plane = new byte[PlaneBytes(width, codes.Length)];
            for (int i = 0; i < codes.Length; i++)
            {
                int field = (codes[i] >> offset) & mask;
                plane[i / perByte] |= (byte)(field << (i % perByte * width));
            }

            planes[p] = plane;
        }

        return planes;
    }

    /// <summary>The codes back from <see cref="Pack"/>'s planes.</summary>
    public static int[] Unpack(byte[][] planes, int bits, int count)
    {
        IReadOnlyList<(int Width, int Offset)> layout = Layout(bits);
        var codes = new int[count];
        for (int p = 0; p < layout.Count; p++)
        {
            (int width, int offset) = layout[p];
            int perByte = 8 / width;
            int mask = (1 << width) - 1;
            byte[] plane = planes[p];
            for (int i = 0; i < count; i++)
            {
                codes[i] |= ((plane[i / perByte] >> (i % perByte * width)) & mask) << offset;
            }
        }

        return codes;
    }
}
