using System.Runtime.InteropServices;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Abstractions.Ir;

/// <summary>
/// A named constant tensor: an initializer, a Constant node's value or a tensor attribute (ONNX TensorProto).
/// Whatever typed field the file used, elements are held here packed little-endian as ONNX raw_data would
/// hold them; string tensors keep their strings in <see cref="StringData"/> instead.
/// </summary>
public sealed class TensorValue
{
    /// <summary>The tensor's name (empty for unnamed attribute values).</summary>
    public string? Name { get; set; }

    /// <summary>The element type.</summary>
    public ElementType ElementType { get; set; }

    /// <summary>The dimensions, outermost first; empty for a scalar.</summary>
    public long[] Dims { get; set; } = Array.Empty<long>();

    /// <summary>The packed element bytes (all types except string).</summary>
    public ReadOnlyMemory<byte> Data { get; set; }

    /// <summary>The elements of a string tensor.</summary>
    public List<byte[]> StringData { get; } = new();

    /// <summary>Human-readable documentation.</summary>
    public string? DocString { get; set; }

    /// <summary>Named metadata.</summary>
    public List<MetadataEntry> MetadataProps { get; } = new();

    /// <summary>Where the bytes came from when they were stored outside the model file; null when inline.</summary>
    public ExternalDataReference? ExternalData { get; set; }

    /// <summary>The chunk of a larger tensor this one holds, if the file split it.</summary>
    public TensorSegment? Segment { get; set; }

    /// <summary>Number of elements the dims describe.</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long d in Dims)
            {
                count *= d;
            }

            return count;
        }
    }

    /// <summary>Bytes the elements occupy (for string tensors, the total string length).</summary>
    public long ByteSize
    {
        get
        {
            if (ElementType != ElementType.String)
            {
                return Data.Length;
            }

            long total = 0;
            foreach (byte[] s in StringData)
            {
                total += s.Length;
            }

            return total;
        }
    }

    /// <summary>
    /// A dense view sharing this tensor's bytes. Cheap, but the caller must not write through it:
    /// the bytes may belong to the loaded file's buffer.
    /// </summary>
    public DenseTensor AsDense() => new(ElementType, Dims, MemoryMarshal.AsMemory(Data));

    /// <summary>A dense tensor owning a copy of the bytes, safe to modify.</summary>
    public DenseTensor ToDense() => new(ElementType, Dims, Data.ToArray());

    /// <summary>A named tensor holding <paramref name="tensor"/>'s bytes (shared, not copied).</summary>
    public static TensorValue FromDense(string name, DenseTensor tensor) => new()
    {
        Name = name,
        ElementType = tensor.ElementType,
        Dims = tensor.ShapeArray(),
        Data = tensor.Data,
    };

    /// <summary>A named float tensor holding a copy of <paramref name="values"/>.</summary>
    public static TensorValue FromFloats(string name, ReadOnlySpan<float> values, params long[] dims) =>
        FromDense(name, DenseTensor.FromFloats(values, dims));

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {ElementTypeInfo.OnnxName(ElementType)}[{string.Join(",", Dims)}]";
}
