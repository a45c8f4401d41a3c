using QuantBuild.Abstractions.Devices;
using QuantBuild.Abstractions.Quantization;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Quantization;

/// <summary>Turns a calibrated range into a per-tensor activation encoding, as the device profile says.</summary>
internal static class ActivationEncoder
{
    /// <summary>
    /// uint8 asymmetric: scale = (max − min) / 255, zero point = round(−min / scale). int8 symmetric:
    /// scale = max(|min|, |max|) / 127, zero point 0. The range always includes 0; an empty range (a constant
    /// zero tensor) gets scale 1 so that no kernel divides by zero.
    /// </summary>
    public static ActivationEncoding Encode(string tensor, TensorRange range, DeviceProfile profile)
    {
        if (!float.IsFinite(range.Min) || !float.IsFinite(range.Max) || range.Min > range.Max)
        {
            throw QuantizationErrors.RangeNotFinite(tensor, range.Min, range.Max);
        }

        TensorRange r = range.IncludingZero();
        if (profile.Kernels.SymmetricActivations)
        {
            float absMax = Math.Max(-r.Min, r.Max);
            float scale = absMax / 127f;
            return new ActivationEncoding(IsUsable(scale) ? scale : 1f, 0, profile.Kernels.ActivationType);
        }

        (int qMin, int qMax) = profile.Kernels.ActivationType == ElementType.Int8 ? (-128, 127) : (0, 255);
        float s = (r.Max - r.Min) / (qMax - qMin);
        if (!IsUsable(s))
        {
            return new ActivationEncoding(1f, 0, profile.Kernels.ActivationType);
        }

        int zeroPoint = (int)Math.Clamp(MathF.Round(qMin - r.Min / s, MidpointRounding.ToEven), qMin, qMax);
        return new ActivationEncoding(s, zeroPoint, profile.Kernels.ActivationType);
    }

    /// <summary>The range of a constant float tensor's values.</summary>
    public static TensorRange RangeOf(ReadOnlySpan<float> values)
    {
        float min = 0f;
        float max = 0f;
        foreach (float v in values)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        return new TensorRange(min, max);
    }

    /// <summary>Quantizes values with <paramref name="encoding"/>, rounding half to even as QuantizeLinear does.</summary>
    public static byte[] Quantize(ReadOnlySpan<float> values, ActivationEncoding encoding)
    {
        (int qMin, int qMax) = encoding.Type == ElementType.Int8 ? (-128, 127) : (0, 255);
        var bytes = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float q = MathF.Round(values[i] / encoding.Scale, MidpointRounding.ToEven) + encoding.ZeroPoint;
            bytes[i] = unchecked((byte)(int)Math.Clamp(q, qMin, qMax));
        }

        return bytes;
    }

    private static bool IsUsable(float scale) => float.IsNormal(scale) && scale > 0f;
}
