using System.Runtime.InteropServices;

namespace QuantBuild.Abstractions.Tensors;

/// <summary>
/// A dense tensor: element type, shape and the elements packed little-endian in row-major order, exactly
/// as ONNX's <c>raw_data</c> stores them (sub-byte types two or four to a byte, low bits first).
/// This is the one tensor type that crosses between model files, ONNX Runtime and plugins.
/// </summary>
public sealed class DenseTensor
{
    private readonly long[] _shape;

    /// <summary>Wraps <paramref name="data"/> without copying.</summary>
    /// <exception cref="ArgumentException">The data length does not match the shape and element type.</exception>
    public DenseTensor(ElementType elementType, ReadOnlySpan<long> shape, Memory<byte> data)
    {
        if (elementType is ElementType.String or ElementType.Undefined)
        {
            throw new ArgumentException($"A dense tensor cannot hold {ElementTypeInfo.OnnxName(elementType)} elements.", nameof(elementType));
        }

        _shape = shape.ToArray();
        long count = 1;
        foreach (long d in _shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Shape [{string.Join(",", _shape)}] has a negative dimension.", nameof(shape));
            }

            count *= d;
        }

        long expected = ElementTypeInfo.ByteCount(elementType, count);
        if (data.Length != expected)
        {
            throw new ArgumentException(
                $"{ElementTypeInfo.OnnxName(elementType)} tensor of shape [{string.Join(",", _shape)}] needs {expected} bytes, got {data.Length}.",
                nameof(data));
        }

        ElementType = elementType;
        ElementCount = count;
        Data = data;
    }

    /// <summary>The element type.</summary>
    public ElementType ElementType { get; }

    /// <summary>The dimensions, outermost first. Empty for a scalar.</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>The packed little-endian element bytes.</summary>
    public Memory<byte> Data { get; }

    /// <summary>The dimensions as a new array.</summary>
    public long[] ShapeArray() => (long[])_shape.Clone();

    /// <summary>Views the data as elements of <typeparamref name="T"/>; the caller picks the type matching <see cref="ElementType"/>.</summary>
    public Span<T> AsSpan<T>() where T : struct
    {
        if (ElementTypeInfo.BitsPerElement(ElementType) != Marshal.SizeOf<T>() * 8)
        {
            throw new InvalidOperationException($"A {ElementTypeInfo.OnnxName(ElementType)} tensor cannot be viewed as {typeof(T).Name}.");
        }

        return MemoryMarshal.Cast<byte, T>(Data.Span);
    }

    /// <summary>Creates a tensor that owns a copy of <paramref name="values"/>.</summary>
    public static DenseTensor Create<T>(ElementType elementType, ReadOnlySpan<T> values, ReadOnlySpan<long> shape) where T : unmanaged
    {
        byte[] bytes = MemoryMarshal.AsBytes(values).ToArray();
        return new DenseTensor(elementType, shape, bytes);
    }

    /// <summary>Creates a float tensor that owns a copy of <paramref name="values"/>.</summary>
    public static DenseTensor FromFloats(ReadOnlySpan<float> values, params long[] shape) => Create(ElementType.Float, values, shape);

    /// <summary>Allocates a zero-filled tensor.</summary>
    public static DenseTensor Zeros(ElementType elementType, params long[] shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            count *= d;
        }

        return new DenseTensor(elementType, shape, new byte[ElementTypeInfo.ByteCount(elementType, count)]);
    }

    /// <inheritdoc />
    public override string ToString() => $"{ElementTypeInfo.OnnxName(ElementType)}[{string.Join(",", _shape)}]";
}
