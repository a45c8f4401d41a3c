using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Analysis;

/// <summary>The first <c>n</c> samples of another source: analysis trials run on a bounded subset. Does not own the source.</summary>
public sealed class SubsetDataSource : IDataSource
{
    private readonly IDataSource _inner;

    /// <summary>Wraps <paramref name="inner"/>, showing at most <paramref name="samples"/> samples.</summary>
    public SubsetDataSource(IDataSource inner, long samples)
    {
        _inner = inner;
        SampleCount = Math.Min(inner.SampleCount, Math.Max(1, samples));
    }

    /// <inheritdoc />
    public string Description => $"{_inner.Description} (first {SampleCount})";

    /// <inheritdoc />
    public IReadOnlyList<string> Names => _inner.Names;

    /// <inheritdoc />
    public long SampleCount { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, DenseTensor> Read(long start, int count) => _inner.Read(start, (int)Math.Min(count, SampleCount - start));

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
