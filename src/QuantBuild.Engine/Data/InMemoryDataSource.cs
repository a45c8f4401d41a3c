using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>
/// Tensors already in memory, stacked on axis 0: what .npz members (which may be compressed, so cannot be read by
/// row range) and ONNX .pb test data sets become.
/// </summary>
public sealed class InMemoryDataSource : IDataSource
{
    private readonly IReadOnlyList<(string Name, DenseTensor Tensor)> _tensors;

    /// <summary>Wraps the tensors; all must hold the same number of samples.</summary>
    public InMemoryDataSource(string description, IReadOnlyList<(string Name, DenseTensor Tensor)> tensors)
    {
        Description = description;
        _tensors = tensors;
        SampleCount = tensors.Count == 0 ? 0 : Rows(tensors[0].Tensor);
        foreach ((string name, DenseTensor t) in tensors)
        {
            if (Rows(t) != SampleCount)
            {
                throw DataSourceErrors.RowMismatch(description, tensors[0].Name, SampleCount, name, Rows(t));
            }
        }
    }

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Names => _tensors.Select(t => t.Name).ToList();

    /// <inheritdoc />
    public long SampleCount { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, DenseTensor> Read(long start, int count)
    {
        var result = new Dictionary<string, DenseTensor>(StringComparer.Ordinal);
        foreach ((string name, DenseTensor t) in _tensors)
        {
            result[name] = TensorRows.Slice(t, start, count);
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private static long Rows(DenseTensor t) => t.Rank == 0 ? 1 : t.Shape[0];
}
