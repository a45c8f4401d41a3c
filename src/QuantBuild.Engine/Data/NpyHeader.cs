using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>The parsed header of a .npy array: what the elements are, the shape, and where the data starts.</summary>
public sealed class NpyHeader
{
    private readonly long[] _shape;

    internal NpyHeader(int majorVersion, int minorVersion, string descr, ElementType elementType, long[] shape, long dataOffset)
    {
        MajorVersion = majorVersion;
        MinorVersion = minorVersion;
        Descr = descr;
        ElementType = elementType;
        _shape = shape;
        DataOffset = dataOffset;
        ElementSize = ElementTypeInfo.BitsPerElement(elementType) / 8;

        long count = 1;
        foreach (long d in shape)
        {
            count *= d;
        }

        ElementCount = count;
        DataByteCount = count * ElementSize;
        long perRow = ElementSize;
        for (int i = 1; i < shape.Length; i++)
        {
            perRow *= shape[i];
        }

        RowByteCount = shape.Length == 0 ? 0 : perRow;
    }

    /// <summary>Format major version (1, 2 or 3).</summary>
    public int MajorVersion { get; }

    /// <summary>Format minor version (always 0 today).</summary>
    public int MinorVersion { get; }

    /// <summary>The numpy dtype string as written, for example <c>&lt;f4</c>.</summary>
    public string Descr { get; }

    /// <summary>The element type (ONNX numbering).</summary>
    public ElementType ElementType { get; }

    /// <summary>Bytes per element.</summary>
    public int ElementSize { get; }

    /// <summary>The dimensions, outermost first. Empty for a 0-d scalar.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements (1 for a 0-d scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Offset of the first data byte from the start of the .npy stream.</summary>
    public long DataOffset { get; }

    /// <summary>Bytes of element data after the header.</summary>
    public long DataByteCount { get; }

    /// <summary>Length of the first axis: the number of samples when the file is a batch. 0 for a 0-d scalar.</summary>
    public long RowCount => _shape.Length == 0 ? 0 : _shape[0];

    /// <summary>Bytes in one row (one index along the first axis). 0 for a 0-d scalar.</summary>
    public long RowByteCount { get; }

    /// <summary>The dimensions as a new array.</summary>
    public long[] ShapeArray() => (long[])_shape.Clone();

    /// <inheritdoc />
    public override string ToString() => $"{ElementTypeInfo.OnnxName(ElementType)}[{string.Join(",", _shape)}] (npy {MajorVersion}.{MinorVersion}, {Descr})";
}
