using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>One .npy file per name, read row range by row range so memory stays flat however large the files are.</summary>
public sealed class NpyDataSource : IDataSource
{
    private readonly List<(string Name, NpyFile File)> _files = new();

    /// <summary>Opens each file; all must hold the same number of samples (rows along axis 0).</summary>
    public NpyDataSource(IReadOnlyList<KeyValuePair<string, string>> namedPaths, string? description = null)
    {
        try
        {
            foreach ((string name, string path) in namedPaths)
            {
                _files.Add((name, NpyFile.Open(path)));
            }

            Description = description ?? string.Join(", ", namedPaths.Select(p => p.Value));
            SampleCount = _files.Count == 0 ? 0 : _files[0].File.RowCount;
            foreach ((string name, NpyFile file) in _files)
            {
                if (file.RowCount != SampleCount)
                {
                    throw DataSourceErrors.RowMismatch(Description, _files[0].Name, SampleCount, name, file.RowCount);
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>A source of one array under one name.</summary>
    public static NpyDataSource Single(string name, string path) => new(new[] { KeyValuePair.Create(name, path) }, path);

    /// <inheritdoc />
    public string Description { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Names => _files.ConvertAll(f => f.Name);

    /// <inheritdoc />
    public long SampleCount { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, DenseTensor> Read(long start, int count)
    {
        var result = new Dictionary<string, DenseTensor>(StringComparer.Ordinal);
        foreach ((string name, NpyFile file) in _files)
        {
            result[name] = file.ReadRows(start, count);
        }

        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach ((_, NpyFile file) in _files)
        {
            file.Dispose();
        }
    }
}
