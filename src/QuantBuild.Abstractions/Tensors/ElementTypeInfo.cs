namespace QuantBuild.Abstractions.Tensors;

/// <summary>Facts about <see cref="ElementType"/> values: storage width and display names.</summary>
public static class ElementTypeInfo
{
    /// <summary>
    /// Bits one element occupies in packed storage (ONNX raw_data layout). Returns 0 for
    /// <see cref="ElementType.String"/> and <see cref="ElementType.Undefined"/>, which have no fixed width.
    /// </summary>
    public static int BitsPerElement(ElementType type) => type switch
    {
        ElementType.Float or ElementType.Int32 or ElementType.UInt32 => 32,
        ElementType.UInt8 or ElementType.Int8 or ElementType.Bool => 8,
        ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ or ElementType.Float8E5M2
            or ElementType.Float8E5M2FNUZ or ElementType.Float8E8M0 => 8,
        ElementType.UInt16 or ElementType.Int16 or ElementType.Float16 or ElementType.BFloat16 => 16,
        ElementType.Int64 or ElementType.UInt64 or ElementType.Double or ElementType.Complex64 => 64,
        ElementType.Complex128 => 128,
        ElementType.UInt4 or ElementType.Int4 or ElementType.Float4E2M1 => 4,
        ElementType.UInt2 or ElementType.Int2 => 2,
        _ => 0,
    };

    /// <summary>Bytes needed to store <paramref name="count"/> packed elements (sub-byte types round up).</summary>
    public static long ByteCount(ElementType type, long count)
    {
        int bits = BitsPerElement(type);
        return bits == 0 ? 0 : (count * bits + 7) / 8;
    }

    /// <summary>True for float16, bfloat16, float, double and the 8/4-bit float formats.</summary>
    public static bool IsFloatingPoint(ElementType type) => type is ElementType.Float or ElementType.Double
        or ElementType.Float16 or ElementType.BFloat16 or ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ
        or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ or ElementType.Float4E2M1 or ElementType.Float8E8M0;

    /// <summary>The ONNX spelling of the type, lower case (for example <c>float</c>, <c>int8</c>, <c>float16</c>).</summary>
    public static string OnnxName(ElementType type) => type switch
    {
        ElementType.Float => "float",
        ElementType.UInt8 => "uint8",
        ElementType.Int8 => "int8",
        ElementType.UInt16 => "uint16",
        ElementType.Int16 => "int16",
        ElementType.Int32 => "int32",
        ElementType.Int64 => "int64",
        ElementType.String => "string",
        ElementType.Bool => "bool",
        ElementType.Float16 => "float16",
        ElementType.Double => "double",
        ElementType.UInt32 => "uint32",
        ElementType.UInt64 => "uint64",
        ElementType.Complex64 => "complex64",
        ElementType.Complex128 => "complex128",
        ElementType.BFloat16 => "bfloat16",
        ElementType.Float8E4M3FN => "float8e4m3fn",
        ElementType.Float8E4M3FNUZ => "float8e4m3fnuz",
        ElementType.Float8E5M2 => "float8e5m2",
        ElementType.Float8E5M2FNUZ => "float8e5m2fnuz",
        ElementType.UInt4 => "uint4",
        ElementType.Int4 => "int4",
        ElementType.Float4E2M1 => "float4e2m1",
        ElementType.Float8E8M0 => "float8e8m0",
        ElementType.UInt2 => "uint2",
        ElementType.Int2 => "int2",
        _ => "undefined",
    };
}
