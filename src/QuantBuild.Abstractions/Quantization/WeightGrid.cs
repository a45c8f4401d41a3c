using QuantBuild.Abstractions.Devices;

namespace QuantBuild.Abstractions.Quantization;

/// <summary>
/// The integer codes a device's weight kernels take at one bit width: [<see cref="QMin"/>, <see cref="QMax"/>]. On a
/// reduce-range device (x64 without VNNI, <see cref="DeviceKernels.ReduceRange"/>) 8-bit weights keep to 7 bits, because
/// its u8·s8 kernels sum pairs in saturating 16-bit lanes; lower widths run through decode subgraphs and keep their
/// full range. Passes and the encoder ask this one type, so a scale a pass chooses is the scale the encoder writes.
/// </summary>
/// <param name="Bits">The storage width in bits (2 to 8).</param>
/// <param name="QMin">The smallest code.</param>
/// <param name="QMax">The largest code.</param>
public readonly record struct WeightGrid(int Bits, int QMin, int QMax)
{
    /// <summary>True when codes may be negative (int8, int4); false for unsigned storage (uint8, uint4).</summary>
    public bool IsSigned => QMin < 0;

    /// <summary>
    /// The largest magnitude a symmetric (zero point 0) code reaches on both sides: 127 for int8, 63 reduced, 7 for
    /// int4; an abs-max scale is <c>absMax / SymmetricMax</c>. For unsigned grids, the half range around the midpoint.
    /// </summary>
    public int SymmetricMax => IsSigned ? Math.Min(-QMin, QMax) : (QMax - QMin) / 2;

    /// <summary>Two's-complement codes of <paramref name="bits"/> bits, one bit fewer when <paramref name="reduceRange"/>.</summary>
    public static WeightGrid Signed(int bits, bool reduceRange = false)
    {
        int used = Used(bits, reduceRange);
        return new WeightGrid(bits, -(1 << (used - 1)), (1 << (used - 1)) - 1);
    }

    /// <summary>Unsigned codes of <paramref name="bits"/> bits, one bit fewer when <paramref name="reduceRange"/>.</summary>
    public static WeightGrid Unsigned(int bits, bool reduceRange = false) => new(bits, 0, (1 << Used(bits, reduceRange)) - 1);

    /// <summary>The signed grid <paramref name="device"/> runs at <paramref name="bits"/>: reduce-range applies to 8-bit weights only.</summary>
    public static WeightGrid For(DeviceProfile device, int bits)
    {
        ArgumentNullException.ThrowIfNull(device);
        return Signed(bits, device.Kernels.ReduceRange && bits == 8);
    }

    /// <summary>Clamps <paramref name="code"/> into the grid.</summary>
    public int Clamp(long code) => (int)Math.Clamp(code, QMin, QMax);

    /// <summary>Round-half-to-even of <paramref name="value"/>/<paramref name="scale"/> plus <paramref name="zeroPoint"/>, clamped: what DequantizeLinear inverts.</summary>
    public int Quantize(float value, float scale, int zeroPoint = 0) =>
        scale > 0 ? (int)Math.Clamp(MathF.Round(value / scale, MidpointRounding.ToEven) + zeroPoint, QMin, QMax) : Clamp(zeroPoint);

    private static int Used(int bits, bool reduceRange)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 16);
        return reduceRange ? bits - 1 : bits;
    }
}
