namespace QuantBuild.Abstractions.Tensors;

/// <summary>
/// Element type of a tensor. The numeric values are ONNX's <c>TensorProto.DataType</c> codes so that a
/// value read from a model file or reported by ONNX Runtime maps across without a lookup table.
/// </summary>
public enum ElementType
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>32-bit IEEE float.</summary>
    Float = 1,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,
    /// <summary>Variable-length byte string.</summary>
    String = 8,
    /// <summary>Boolean stored in one byte.</summary>
    Bool = 9,
    /// <summary>16-bit IEEE half float.</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float.</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
    /// <summary>Complex number of two 32-bit floats.</summary>
    Complex64 = 14,
    /// <summary>Complex number of two 64-bit floats.</summary>
    Complex128 = 15,
    /// <summary>Brain float 16.</summary>
    BFloat16 = 16,
    /// <summary>8-bit float, 4 exponent bits, 3 mantissa bits, finite only.</summary>
    Float8E4M3FN = 17,
    /// <summary>8-bit float, 4 exponent bits, 3 mantissa bits, finite only, no negative zero.</summary>
    Float8E4M3FNUZ = 18,
    /// <summary>8-bit float, 5 exponent bits, 2 mantissa bits.</summary>
    Float8E5M2 = 19,
    /// <summary>8-bit float, 5 exponent bits, 2 mantissa bits, finite only, no negative zero.</summary>
    Float8E5M2FNUZ = 20,
    /// <summary>Unsigned 4-bit integer, two per byte.</summary>
    UInt4 = 21,
    /// <summary>Signed 4-bit integer, two per byte.</summary>
    Int4 = 22,
    /// <summary>4-bit float, 2 exponent bits, 1 mantissa bit, two per byte.</summary>
    Float4E2M1 = 23,
    /// <summary>8-bit exponent-only float (scale type of microscaling formats).</summary>
    Float8E8M0 = 24,
    /// <summary>Unsigned 2-bit integer, four per byte.</summary>
    UInt2 = 25,
    /// <summary>Signed 2-bit integer, four per byte.</summary>
    Int2 = 26,
}
