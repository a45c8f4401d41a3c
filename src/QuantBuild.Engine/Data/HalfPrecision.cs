using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>
/// float16 and bfloat16 tensors to and from float32: how an fp16 model is fed the float32 data users have (numpy's
/// default) and how its outputs reach metrics that read float32. Both conversions round to nearest even.
/// </summary>
public static class HalfPrecision
{
    /// <summary>True for float16 and bfloat16.</summary>
    public static bool IsHalf(ElementType type) => type is ElementType.Float16 or ElementType.BFloat16;

    /// <summary><paramref name="tensor"/> as float32 when it is float16 or bfloat16, else itself.</summary>
    public static DenseTensor ToFloat(DenseTensor tensor)
    {
        if (!IsHalf(tensor.ElementType))
        {
            return tensor;
        }

        ReadOnlySpan<ushort> bits = MemoryMarshal.Cast<byte, ushort>(tensor.Data.Span);
        var values = new float[bits.Length];
        if (tensor.ElementType == ElementType.Float16)
        {
            ReadOnlySpan<Half> h = MemoryMarshal.Cast<ushort, Half>(bits);
            for (int i = 0; i < h.Length; i++)
            {
                values[i] = (float)h[i];
            }
        }
        else
        {
            for (int i = 0; i < bits.Length; i++)
            {
                values[i] = BitConverter.Int32BitsToSingle(bits[i] << 16);
            }
        }

        return DenseTensor.Create(ElementType.Float, values, tensor.Shape);
    }

    /// <summary>A float32 <paramref name="tensor"/> as <paramref name="type"/> (float16 or bfloat16).</summary>
    public static DenseTensor FromFloat(DenseTensor tensor, ElementType type)
    {
        ReadOnlySpan<float> f = tensor.AsSpan<float>();
        var bits = new ushort[f.Length];
        if (type == ElementType.Float16)
        {
            Span<Half> h = MemoryMarshal.Cast<ushort, Half>(bits.AsSpan());
            for (int i = 0; i < f.Length; i++)
            {
                h[i] = (Half)f[i];
            }
        }
        else
        {
            for (int i = 0; i < f.Length; i++)
            {
                bits[i] = BFloat16Bits(f[i]);
            }
        }

        return DenseTensor.Create(type, bits, tensor.Shape);
    }

    private static ushort BFloat16Bits(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((u >> 16) | 0x40); // stays a (quiet) NaN
        }

        uint rounding = 0x7FFF + ((u >> 16) & 1);
        return (ushort)((u + rounding) >> 16);
    }
}
