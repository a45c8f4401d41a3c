using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Quantization;

/// <summary>
/// Rounds constant float weights to integers: RTN per channel, or a pass's encoding verbatim (4-bit blocked RTN is
/// <see cref="FourBitBlocks"/>).
/// </summary>
internal static class WeightQuantizer
{
    /// <summary>
    /// Symmetric round-to-nearest: scale = max|w| / qMax per slice of <paramref name="axis"/> (whole tensor when null),
    /// codes = round(w / scale) clamped to ±qMax. A slice of zeros gets scale 1, as nothing can divide by it then.
    /// <paramref name="minScales"/>, when given, raises a channel's scale so that its int32 bias cannot overflow.
    /// </summary>
    public static QuantizedWeight RoundToNearest8(ReadOnlySpan<float> w, long[] dims, int? axis, int qMax, float[]? minScales)
    {
        (int channels, long inner) = Layout(dims, axis);
        var absMax = new float[channels];
        for (int i = 0; i < w.Length; i++)
        {
            int c = (int)(i / inner % channels);
            absMax[c] = Math.Max(absMax[c], Math.Abs(w[i]));
        }

        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            float s = absMax[c] / qMax;
            scales[c] = float.IsNormal(s) ? s : 1f;
            if (minScales is not null && scales[c] < minScales[channels == 1 ? 0 : c])
            {
                scales[c] = minScales[channels == 1 ? 0 : c];
            }
        }

        var codes = new byte[w.Length];
        for (int i = 0; i < w.Length; i++)
        {
            float s = scales[(int)(i / inner % channels)];
            codes[i] = unchecked((byte)(sbyte)Math.Clamp(MathF.Round(w[i] / s, MidpointRounding.ToEven), -qMax, qMax));
        }

        long[] scaleDims = axis is null ? Array.Empty<long>() : new long[] { channels };
        return new QuantizedWeight(ElementType.Int8, dims, codes, scales, scaleDims, new byte[channels], axis, null);
    }

    /// <summary>A pass's encoding, checked against the weight's shape and used verbatim (RTN with its scales when it has no codes).</summary>
    public static QuantizedWeight FromEncoding(string name, ReadOnlySpan<float> w, long[] dims, WeightEncoding e)
    {
        string origin = e.Origin ?? "a recipe pass";
        if (e.Type is not (ElementType.Int8 or ElementType.UInt8 or ElementType.Int4 or ElementType.UInt4))
        {
            throw QuantizationErrors.InvalidWeightOverride(name, origin, $"storage type {ElementTypeInfo.OnnxName(e.Type)} is not int8, uint8, int4 or uint4");
        }

        int width = ElementTypeInfo.BitsPerElement(e.Type);
        if (e.Bits < 2 || e.Bits > width)
        {
            throw QuantizationErrors.InvalidWeightOverride(name, origin, $"{e.Bits} bits do not fit {ElementTypeInfo.OnnxName(e.Type)}");
        }

        if (e.Axis is { } a && (a < 0 || a >= dims.Length))
        {
            throw QuantizationErrors.InvalidWeightOverride(name, origin, $"axis {a} is outside the weight's rank {dims.Length}");
        }

        bool signed = e.Type is ElementType.Int8 or ElementType.Int4;
        int qMin = signed ? -(1 << (e.Bits - 1)) : 0;
        int qMax = signed ? (1 << (e.Bits - 1)) - 1 : (1 << e.Bits) - 1;

        long[] scaleDims;
        if (e.Axis is null)
        {
            scaleDims = Array.Empty<long>();
        }
        else if (e.BlockSize is { } bs)
        {
            if (bs < 1)
            {
                throw QuantizationErrors.InvalidWeightOverride(name, origin, $"block size {bs} is not positive");
            }

            scaleDims = (long[])dims.Clone();
            scaleDims[e.Axis.Value] = (dims[e.Axis.Value] + bs - 1) / bs;
        }
        else
        {
            scaleDims = new[] { dims[e.Axis.Value] };
        }

        long scaleCount = 1;
        foreach (long d in scaleDims)
        {
            scaleCount *= d;
        }

        if (e.Scales.Length != scaleCount)
        {
            throw QuantizationErrors.InvalidWeightOverride(name, origin, $"{e.Scales.Length} scales given, the layout needs {scaleCount}");
        }

        foreach (float s in e.Scales)
        {
            if (!float.IsFinite(s) || s <= 0f)
            {
                throw QuantizationErrors.InvalidWeightOverride(name, origin, $"scale {s} is not a positive finite number");
            }
        }

        if (e.ZeroPoints is not null && e.ZeroPoints.Length != scaleCount)
        {
            throw QuantizationErrors.InvalidWeightOverride(name, origin, $"{e.ZeroPoints.Length} zero points given, the layout needs {scaleCount}");
        }

        if (e.Codes is not null && e.Codes.Length != w.Length)
        {
            throw QuantizationErrors.InvalidWeightOverride(name, origin, $"{e.Codes.Length} codes given, the weight has {w.Length} elements");
        }

        int[] zeroPoints = e.ZeroPoints ?? new int[scaleCount];
        foreach (int z in zeroPoints)
        {
            if (z < qMin || z > qMax)
            {
                throw QuantizationErrors.InvalidWeightOverride(name, origin, $"zero point {z} is outside [{qMin}, {qMax}]");
            }
        }

        var codes = new int[w.Length];
        for (int i = 0; i < w.Length; i++)
        {
            int si = ScaleIndex(i, dims, e.Axis, e.BlockSize);
            if (e.Codes is not null)
            {
                int c = e.Codes[i];
                if (c < qMin || c > qMax)
                {
                    throw QuantizationErrors.InvalidWeightOverride(name, origin, $"code {c} at element {i} is outside [{qMin}, {qMax}]");
                }

                codes[i] = c;
            }
            else
            {
                codes[i] = (int)Math.Clamp(MathF.Round(w[i] / e.Scales[si], MidpointRounding.ToEven) + zeroPoints[si], qMin, qMax);
            }
        }

        return new QuantizedWeight(e.Type, dims, Pack(codes, e.Type), (float[])e.Scales.Clone(), scaleDims, Pack(zeroPoints, e.Type), e.Axis, e.BlockSize);
    }

    /// <summary>Packs integers into the storage of <paramref name="type"/> (4-bit: two per byte, low nibble first).</summary>
    public static byte[] Pack(ReadOnlySpan<int> values, ElementType type)
    {
        if (type is ElementType.Int4 or ElementType.UInt4)
        {
            var packed = new byte[(values.Length + 1) / 2];
            for (int i = 0; i < values.Length; i++)
            {
                int nibble = values[i] & 0xF;
                packed[i / 2] |= (byte)(i % 2 == 0 ? nibble : nibble << 4);
            }

            return packed;
        }

        var bytes = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            bytes[i] = unchecked((byte)values[i]);
        }

        return bytes;
    }

    private static (int Channels, long Inner) Layout(long[] dims, int? axis)
    {
        if (axis is null)
        {
            return (1, long.MaxValue);
        }

        long inner = 1;
        for (int d = axis.Value + 1; d < dims.Length; d++)
        {
            inner *= d < dims.Length ? dims[d] : 1;
        }

        return ((int)dims[axis.Value], inner);
    }

    /// <summary>Which of an encoding's scales (and zero points) element <paramref name="i"/> of the weight uses.</summary>
    internal static int ScaleIndex(long i, long[] dims, int? axis, int? blockSize)
    {
        if (axis is null)
        {
            return 0;
        }

        int a = axis.Value;
        long inner = 1;
        for (int d = a + 1; d < dims.Length; d++)
        {
            inner *= dims[d];
        }

        long c = i / inner % dims[a];
        if (blockSize is null)
        {
            return (int)c;
        }

        long blocks = (dims[a] + blockSize.Value - 1) / blockSize.Value;
        long outer = i / (inner * dims[a]);
        return (int)((outer * blocks + c / blockSize.Value) * inner + i % inner);
    }
}
