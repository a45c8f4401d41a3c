using System.Buffers.Binary;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Tests.Data;

/// <summary>The formulas make_fixtures.py uses for element i, and a way to read element i of a tensor back as numbers.</summary>
internal static class FixtureValues
{
    /// <summary>Expected (real, imaginary) value of element <paramref name="i"/> for a fixture of type <paramref name="type"/>.</summary>
    public static (double Re, double Im) Expected(ElementType type, long i) => type switch
    {
        ElementType.Bool => (i % 3 == 0 ? 1 : 0, 0),
        ElementType.UInt8 or ElementType.UInt16 or ElementType.UInt32 or ElementType.UInt64 => (i, 0),
        ElementType.Int8 or ElementType.Int16 or ElementType.Int32 or ElementType.Int64 => (i - 5, 0),
        ElementType.Float16 or ElementType.Float or ElementType.Double => (i - 5 + (i / 4.0), 0),
        ElementType.Complex64 or ElementType.Complex128 => (i - 5, i / 4.0),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static (double Re, double Im) Element(DenseTensor t, long i)
    {
        ReadOnlySpan<byte> d = t.Data.Span;
        int at = checked((int)i);
        return t.ElementType switch
        {
            ElementType.Bool or ElementType.UInt8 => (d[at], 0),
            ElementType.Int8 => ((sbyte)d[at], 0),
            ElementType.Int16 => (BinaryPrimitives.ReadInt16LittleEndian(d[(at * 2)..]), 0),
            ElementType.UInt16 => (BinaryPrimitives.ReadUInt16LittleEndian(d[(at * 2)..]), 0),
            ElementType.Float16 => ((double)BinaryPrimitives.ReadHalfLittleEndian(d[(at * 2)..]), 0),
            ElementType.Int32 => (BinaryPrimitives.ReadInt32LittleEndian(d[(at * 4)..]), 0),
            ElementType.UInt32 => (BinaryPrimitives.ReadUInt32LittleEndian(d[(at * 4)..]), 0),
            ElementType.Float => (BinaryPrimitives.ReadSingleLittleEndian(d[(at * 4)..]), 0),
            ElementType.Int64 => (BinaryPrimitives.ReadInt64LittleEndian(d[(at * 8)..]), 0),
            ElementType.UInt64 => (BinaryPrimitives.ReadUInt64LittleEndian(d[(at * 8)..]), 0),
            ElementType.Double => (BinaryPrimitives.ReadDoubleLittleEndian(d[(at * 8)..]), 0),
            ElementType.Complex64 => (BinaryPrimitives.ReadSingleLittleEndian(d[(at * 8)..]), BinaryPrimitives.ReadSingleLittleEndian(d[((at * 8) + 4)..])),
            ElementType.Complex128 => (BinaryPrimitives.ReadDoubleLittleEndian(d[(at * 16)..]), BinaryPrimitives.ReadDoubleLittleEndian(d[((at * 16) + 8)..])),
            _ => throw new ArgumentOutOfRangeException(nameof(t)),
        };
    }

    public static void AssertMatchesFormula(DenseTensor t)
    {
        for (long i = 0; i < t.ElementCount; i++)
        {
            (double re, double im) = Element(t, i);
            (double expRe, double expIm) = Expected(t.ElementType, i);
            Assert.True(expRe == re && expIm == im, $"{t} element {i}: expected ({expRe}, {expIm}), read ({re}, {im})");
        }
    }
}
