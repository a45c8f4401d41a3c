using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>
/// A data source for a model with float16 or bfloat16 inputs: float32 data (what numpy and most preprocessing write)
/// is converted to the input's type as it is read, so an fp16 model is calibrated and evaluated as it is, on the same
/// files an fp32 model would take. Data already in the input's type passes through.
/// </summary>
public sealed class HalfPrecisionInputSource : IDataSource
{
    private readonly IDataSource _inner;
    private readonly IReadOnlyDictionary<string, ElementType> _types;

    private HalfPrecisionInputSource(IDataSource inner, IReadOnlyDictionary<string, ElementType> types)
    {
        _inner = inner;
        _types = types;
    }

    /// <inheritdoc />
    public string Description => _inner.Description;

    /// <inheritdoc />
    public IReadOnlyList<string> Names => _inner.Names;

    /// <inheritdoc />
    public long SampleCount => _inner.SampleCount;

    /// <summary><paramref name="inner"/> converting float32 to the type of each half-precision input of <paramref name="model"/>, or <paramref name="inner"/> when it has none.</summary>
    public static IDataSource Wrap(IDataSource inner, OnnxModel model)
    {
        var types = new Dictionary<string, ElementType>(StringComparer.Ordinal);
        foreach (ValueInfo input in Batcher.ModelInputs(model))
        {
            if (input.TensorType?.ElementType is { } type && HalfPrecision.IsHalf(type))
            {
                types[input.Name] = type;
            }
        }

        return types.Count == 0 ? inner : new HalfPrecisionInputSource(inner, types);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, DenseTensor> Read(long start, int count)
    {
        IReadOnlyDictionary<string, DenseTensor> read = _inner.Read(start, count);
        Dictionary<string, DenseTensor>? converted = null;
        foreach ((string name, ElementType type) in _types)
        {
            if (read.TryGetValue(name, out DenseTensor? t) && t.ElementType == ElementType.Float)
            {
                converted ??= new Dictionary<string, DenseTensor>(read, StringComparer.Ordinal);
                converted[name] = HalfPrecision.FromFloat(t, type);
            }
        }

        return converted ?? read;
    }

    /// <inheritdoc />
    public void Dispose() => _inner.Dispose();
}
