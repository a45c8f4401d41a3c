using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>
/// Cuts a data source into batches the model accepts: the configured size when the model's first dimension is
/// symbolic, exactly the fixed size when the model pins it (a model exported with batch 1 gets batches of 1).
/// Checks every input's per-sample shape and type against the model before the first run.
/// </summary>
public sealed class Batcher
{
    private readonly IDataSource _source;
    private readonly long _samples;
    private readonly IReadOnlyDictionary<string, DenseTensor> _constants;

    /// <summary>Plans batches of <paramref name="requested"/> samples (at most <paramref name="maxSamples"/> in all) for <paramref name="model"/>.</summary>
    public Batcher(IDataSource source, OnnxModel model, int requested, long? maxSamples = null)
    {
        _source = source;
        _samples = Math.Min(source.SampleCount, maxSamples ?? long.MaxValue);
        BatchSize = Math.Max(1, requested);
        // Inputs bound to constants are fed whole: their first axis is not a batch (a [2,1,128] state is not batch 2).
        _constants = (source as ConstantInputSource)?.Constants ?? new Dictionary<string, DenseTensor>();
        foreach (ValueInfo input in BatchedInputs(model))
        {
            if (!source.Names.Contains(input.Name))
            {
                throw DataSourceErrors.MissingInput(source.Description, input.Name, source.Names);
            }

            if (input.TensorType is { Shape: { Rank: > 0 } shape } && shape.Dims[0].Value is long fixedBatch && fixedBatch > 0)
            {
                BatchSize = (int)fixedBatch;
            }
        }

        if (HasFixedBatch(model))
        {
            _samples -= _samples % BatchSize;
        }

        if (_samples > 0)
        {
            IReadOnlyDictionary<string, DenseTensor> first = source.Read(0, 1);
            foreach (ValueInfo input in BatchedInputs(model))
            {
                Check(input, first[input.Name]);
            }
        }
    }

    private bool HasFixedBatch(OnnxModel model) => BatchedInputs(model)
        .Any(i => i.TensorType is { Shape: { Rank: > 0 } shape } && shape.Dims[0].Value is long b && b > 0);

    private IEnumerable<ValueInfo> BatchedInputs(OnnxModel model) => ModelInputs(model).Where(i => !_constants.ContainsKey(i.Name));

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Samples the batches cover.</summary>
    public long SampleCount => _samples;

    /// <summary>The model's real inputs: graph inputs that are not initializers.</summary>
    public static IReadOnlyList<ValueInfo> ModelInputs(OnnxModel model)
    {
        var initializers = new HashSet<string>(model.Graph.Initializers.Select(i => i.Name ?? string.Empty), StringComparer.Ordinal);
        return model.Graph.Inputs.Where(i => !initializers.Contains(i.Name)).ToList();
    }

    /// <summary>The batches in order; a fixed-batch model drops a final partial batch it could not run.</summary>
    public IEnumerable<IReadOnlyDictionary<string, DenseTensor>> Batches()
    {
        for (long start = 0; start < _samples; start += BatchSize)
        {
            int count = (int)Math.Min(BatchSize, _samples - start);
            yield return _source.Read(start, count);
        }
    }

    private void Check(ValueInfo input, DenseTensor sample)
    {
        if (input.TensorType is not { } type)
        {
            return;
        }

        if (type.ElementType != ElementType.Undefined && type.ElementType != sample.ElementType)
        {
            throw DataSourceErrors.TypeMismatch(_source.Description, input.Name,
                ElementTypeInfo.OnnxName(sample.ElementType), ElementTypeInfo.OnnxName(type.ElementType));
        }

        if (type.Shape is not { } shape)
        {
            return;
        }

        bool ok = shape.Rank == sample.Rank;
        for (int d = 1; ok && d < shape.Rank; d++)
        {
            ok = shape.Dims[d].Value is not long v || v == sample.Shape[d];
        }

        if (!ok)
        {
            string got = $"[n,{string.Join(",", sample.ShapeArray().Skip(1))}]";
            throw DataSourceErrors.ShapeMismatch(_source.Description, input.Name, got, shape.ToString());
        }
    }
}
