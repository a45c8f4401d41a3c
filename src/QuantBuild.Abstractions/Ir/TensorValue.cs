using System.Runtime.CompilerServices;
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

    /// <summary>
    /// The packed element bytes (all types except string). Read-only: they may be the loaded file's own buffer or a
    /// memory-mapped weights file. To change a tensor, build new bytes (<see cref="ToDense"/> gives a private copy)
    /// and assign them here.
    /// </summary>
    public ReadOnlyMemory<byte> Data { get; set; }

    /// <summary>The elements of a string tensor.</summary>
    public IrList<byte[]> StringData { get; } = new();

    /// <summary>Human-readable documentation.</summary>
    public string? DocString { get; set; }

    /// <summary>Named metadata.</summary>
    public IrList<MetadataEntry> MetadataProps { get; } = new();

    /// <summary>
    /// What the file said about this tensor's storage that the IR does not model (external data location, segment);
    /// opaque to passes. It records where the bytes came from, never where a save puts them, so new <see cref="Data"/>
    /// may leave it as it is.
    /// </summary>
    public PreservedFields? Preserved { get; set; }

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
    /// The elements as <typeparamref name="T"/>, read-only and without a copy; the caller picks the type matching
    /// <see cref="ElementType"/> (float for <see cref="ElementType.Float"/>, <see cref="Half"/> for float16, ...).
    /// </summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/>'s width is not the element type's.</exception>
    public ReadOnlySpan<T> AsReadOnlySpan<T>() where T : unmanaged
    {
        if (ElementTypeInfo.BitsPerElement(ElementType) != Unsafe.SizeOf<T>() * 8)
        {
            throw new InvalidOperationException($"A {ElementTypeInfo.OnnxName(ElementType)} tensor cannot be viewed as {typeof(T).Name}.");
        }

        return MemoryMarshal.Cast<byte, T>(Data.Span);
    }

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
