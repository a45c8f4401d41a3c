using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// A [K, N] MatMul weight rounded to 4 bits in blocks of <see cref="BlockSize"/> along K, one scale (and zero point)
/// per block and output column, held in MatMulNBits' order: column-major, a block's codes contiguous. Both written
/// forms (<see cref="ToMatMulNBits"/>, <see cref="ToBlockedDequantize"/>) are re-packings of the same codes, so the two
/// formats of one weight dequantize to the same floats.
/// </summary>
internal sealed class FourBitBlocks
{
    private FourBitBlocks(int k, int n, int blockSize, bool zeroPoints)
    {
        K = k;
        N = n;
        BlockSize = blockSize;
        Blocks = (k + blockSize - 1) / blockSize;
        Codes = new byte[(long)n * Blocks * blockSize];
        Scales = new float[n * Blocks];
        ZeroPoints = zeroPoints ? new byte[n * Blocks] : null;
    }

    /// <summary>Rows of the weight (MatMul's inner dimension).</summary>
    public int K { get; }

    /// <summary>Columns of the weight (output features).</summary>
    public int N { get; }

    /// <summary>Weights per scale along K.</summary>
    public int BlockSize { get; }

    /// <summary>Blocks per column: K / BlockSize rounded up; the last one is padded when K is not a multiple.</summary>
    public int Blocks { get; }

    /// <summary>Unsigned codes 0–15, [N, Blocks · BlockSize]; padding past K holds the block's zero point (the value 0).</summary>
    public byte[] Codes { get; }

    /// <summary>Scales, [N, Blocks].</summary>
    public float[] Scales { get; }

    /// <summary>Zero points 0–15, [N, Blocks]; null when symmetric (the zero point is 8 everywhere).</summary>
    public byte[]? ZeroPoints { get; }

    /// <summary>
    /// Round-to-nearest. Symmetric: scale = max|w| / 7, codes round(w / scale) in [−8, 7] stored offset by 8.
    /// With <paramref name="zeroPoints"/>: the block's range widened to hold 0, scale = (max − min) / 15, zero point
    /// round(−min / scale), codes round(w / scale) + zero point in [0, 15]. A block of zeros gets scale 1.
    /// </summary>
    public static FourBitBlocks RoundToNearest(ReadOnlySpan<float> w, long[] dims, int blockSize, bool zeroPoints)
    {
        if (dims.Length != 2 || dims[0] * dims[1] != w.Length || dims[0] > int.MaxValue || dims[1] > int.MaxValue)
        {
            throw new ArgumentException($"a 4-bit blocked weight is a 2-D [K, N] tensor; got [{string.Join(", ", dims)}]", nameof(dims));
        }

        int k = (int)dims[0], n = (int)dims[1];
        var q = new FourBitBlocks(k, n, blockSize, zeroPoints);
        var lo = new float[n];
        var hi = new float[n];
        var scale = new float[n];
        var zero = new int[n];
        long column = (long)q.Blocks * blockSize;

        // Rows are read in order (the weight is usually a mapped file); a block's writes to one column share a line.
        for (int b = 0; b < q.Blocks; b++)
        {
            int k0 = b * blockSize, k1 = Math.Min(k, k0 + blockSize);
            Array.Clear(lo);
            Array.Clear(hi);
            for (int r = k0; r < k1; r++)
            {
                ReadOnlySpan<float> row = w.Slice(r * n, n);
                System.Numerics.Tensors.TensorPrimitives.Min(lo, row, lo);
                System.Numerics.Tensors.TensorPrimitives.Max(hi, row, hi);
            }

            for (int j = 0; j < n; j++)
            {
                float s;
                int z;
                if (zeroPoints)
                {
                    s = (hi[j] - lo[j]) / 15f;
                    s = float.IsNormal(s) ? s : 1f;
                    z = (int)Math.Clamp(MathF.Round(-lo[j] / s, MidpointRounding.ToEven), 0, 15);
                    q.ZeroPoints![j * q.Blocks + b] = (byte)z;
                }
                else
                {
                    s = Math.Max(-lo[j], hi[j]) / 7f;
                    s = float.IsNormal(s) ? s : 1f;
                    z = 8;
                }

                scale[j] = s;
                zero[j] = z;
                q.Scales[j * q.Blocks + b] = s;
            }

            int qMin = zeroPoints ? 0 : -8, qMax = zeroPoints ? 15 : 7, offset = zeroPoints ? 0 : 8;
            for (int r = k0; r < k1; r++)
            {
                ReadOnlySpan<float> row = w.Slice(r * n, n);
                for (int j = 0; j < n; j++)
                {
                    float c = MathF.Round(row[j] / scale[j], MidpointRounding.ToEven) + (zeroPoints ? zero[j] : 0);
                    q.Codes[j * column + r] = (byte)((int)Math.Clamp(c, qMin, qMax) + offset);
                }
            }

            for (int r = k1; r < k0 + blockSize; r++)
            {
                for (int j = 0; j < n; j++)
                {
                    q.Codes[j * column + r] = (byte)zero[j];
                }
            }
        }

        return q;
    }

    /// <summary>
    /// A recipe pass's encoding of a [K, N] weight (the codes it chose, or its scales rounded to nearest) as
    /// MatMulNBits blocks, when the encoding has that form: at most 4 bits, with one scale for the tensor, one per output
    /// column (both repeated over blocks of <paramref name="blockSize"/>) or one per block of a power of two ≥ 16 along K.
    /// Every weight dequantizes to exactly the value the encoding gives it: (code − zero point) · scale.
    /// </summary>
    /// <returns>The blocks, or null with <paramref name="why"/> saying what MatMulNBits cannot hold.</returns>
    public static FourBitBlocks? FromEncoding(ReadOnlySpan<float> w, long[] dims, WeightEncoding e, int blockSize, out string? why)
    {
        why = null;
        if (dims.Length != 2 || dims[0] * dims[1] != w.Length || dims[0] > int.MaxValue || dims[1] > int.MaxValue)
        {
            why = $"the weight is [{string.Join(", ", dims)}], not a 2-D [K, N] MatMul weight";
            return null;
        }

        int k = (int)dims[0], n = (int)dims[1];
        bool signed = e.Type is ElementType.Int8 or ElementType.Int4;
        if (e.Bits > 4)
        {
            why = $"it is {e.Bits}-bit; MatMulNBits holds 4 bits";
        }
        else if (e.Axis is null || (e.Axis == 1 && e.BlockSize is null))
        {
            // One scale, or one per column: repeated over the target's blocks.
        }
        else if (e.Axis == 0 && e.BlockSize is int bs)
        {
            if (bs < 16 || (bs & (bs - 1)) != 0)
            {
                why = $"its blocks of {bs} along K are not a power of two of at least 16, which MatMulNBits' block_size must be";
            }

            blockSize = bs;
        }
        else
        {
            why = e.Axis == 0 ? "it has one scale per input row" : "its blocks run along the output axis, MatMulNBits' run along K";
        }

        int blocks = (k + blockSize - 1) / blockSize;
        int scaleCount = e.Axis is null ? 1 : e.BlockSize is null ? n : blocks * n;
        if (why is null && (e.Scales.Length != scaleCount || (e.ZeroPoints is { } z && z.Length != scaleCount) || (e.Codes is { } c && c.LongLength != w.Length)))
        {
            why = $"its scales, zero points or codes do not match the weight's [{k}, {n}] (expected {scaleCount} scales)";
        }

        if (why is not null)
        {
            return null;
        }

        bool zeroPoints = !signed || (e.ZeroPoints?.Any(v => v != 0) ?? false);
        int qMin = signed ? -(1 << (e.Bits - 1)) : 0, qMax = signed ? (1 << (e.Bits - 1)) - 1 : (1 << e.Bits) - 1;
        int offset = signed ? 8 : 0;
        var q = new FourBitBlocks(k, n, blockSize, zeroPoints);
        long column = (long)q.Blocks * blockSize;
        for (int j = 0; j < n; j++)
        {
            for (int b = 0; b < q.Blocks; b++)
            {
                int at = e.Axis is null ? 0 : e.BlockSize is null ? j : b * n + j;
                float scale = e.Scales[at];
                int zero = e.ZeroPoints?[at] ?? 0;
                int stored = zero + offset;
                if (stored is < 0 or > 15 || !float.IsFinite(scale) || scale <= 0)
                {
                    why = $"column {j} block {b} has scale {scale} and zero point {zero}, which MatMulNBits cannot hold";
                    return null;
                }

                q.Scales[j * q.Blocks + b] = scale;
                if (q.ZeroPoints is not null)
                {
                    q.ZeroPoints[j * q.Blocks + b] = (byte)stored;
                }

                int k0 = b * blockSize;
                for (int r = k0; r < k0 + blockSize; r++)
                {
                    int code;
                    if (r >= k)
                    {
                        code = zero;
                    }
                    else if (e.Codes is { } codes)
                    {
                        code = codes[(long)r * n + j];
                    }
                    else
                    {
                        code = (int)Math.Clamp(MathF.Round(w[(int)((long)r * n + j)] / scale, MidpointRounding.ToEven) + zero, qMin, qMax);
                    }

                    if (code + offset is < 0 or > 15)
                    {
                        why = $"its code {code} at [{r}, {j}] does not fit 4 bits";
                        return null;
                    }

                    q.Codes[j * column + r] = (byte)(code + offset);
                }
            }
        }

        return q;
    }

    /// <summary>
    /// MatMulNBits' inputs: B as uint8 [N, Blocks, BlockSize / 2] (two codes a byte, the lower k in the low nibble),
    /// scales [N · Blocks], and zero points packed two a byte per column ([N · ⌈Blocks / 2⌉], low nibble first) or null.
    /// </summary>
    public (byte[] B, float[] Scales, byte[]? ZeroPoints) ToMatMulNBits()
    {
        var b = new byte[Codes.LongLength / 2];
        for (long i = 0; i < b.LongLength; i++)
        {
            b[i] = (byte)(Codes[2 * i] | (Codes[2 * i + 1] << 4));
        }

        byte[]? zeroPoints = null;
        if (ZeroPoints is not null)
        {
            int perColumn = (Blocks + 1) / 2;
            zeroPoints = new byte[N * perColumn];
            for (int j = 0; j < N; j++)
            {
                for (int blk = 0; blk < Blocks; blk++)
                {
                    zeroPoints[j * perColumn + blk / 2] |= (byte)(ZeroPoints[j * Blocks + blk] << (blk % 2 * 4));
                }
            }
        }

        return (b, (float[])Scales.Clone(), zeroPoints);
    }

    /// <summary>
    /// DequantizeLinear's inputs (axis 0, block_size): codes [K, N] as int4 (symmetric) or uint4 (with zero points),
    /// scales and zero points [Blocks, N]. The symmetric form carries zero zero points, as the encoder always wrote.
    /// </summary>
    public QuantizedWeight ToBlockedDequantize()
    {
        ElementType type = ZeroPoints is null ? ElementType.Int4 : ElementType.UInt4;
        long column = (long)Blocks * BlockSize;
        var codes = new byte[((long)K * N + 1) / 2];
        for (int r = 0; r < K; r++)
        {
            for (int j = 0; j < N; j++)
            {
                // Symmetric codes are stored offset by 8: XOR 8 is the int4 nibble of code − 8.
                int nibble = Codes[j * column + r] ^ (ZeroPoints is null ? 8 : 0);
                long e = (long)r * N + j;
                codes[e / 2] |= (byte)(nibble << (int)(e % 2 * 4));
            }
        }

        var scales = new float[Blocks * N];
        var zeroPoints = new byte[(Blocks * N + 1) / 2];
        for (int blk = 0; blk < Blocks; blk++)
        {
            for (int j = 0; j < N; j++)
            {
                int e = blk * N + j;
                scales[e] = Scales[j * Blocks + blk];
                if (ZeroPoints is not null)
                {
                    zeroPoints[e / 2] |= (byte)(ZeroPoints[j * Blocks + blk] << (e % 2 * 4));
                }
            }
        }

        return new QuantizedWeight(type, new long[] { K, N }, codes, scales, new long[] { Blocks, N }, zeroPoints, 0, BlockSize);
    }
}
