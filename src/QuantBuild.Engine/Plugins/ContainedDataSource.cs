using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Tensors;
using QuantBuild.Engine.Config;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// A plugin reader's source with every call contained (<see cref="Contained"/>) and its answers checked: it must
/// provide every model input the host asked for, with exactly the rows requested, so a reader's mistake is reported
/// as the reader's, not as an ONNX Runtime shape error three stages later.
/// </summary>
internal sealed class ContainedDataSource : IDataSource
{
    private readonly IDataSource _inner;
    private readonly PluginInfo _plugin;
    private readonly string _what;
    private readonly SourceLocation _at;

    public ContainedDataSource(IDataSource inner, PluginInfo plugin, string what, SourceLocation at, IReadOnlyList<string> inputs)
    {
        _inner = inner;
        _plugin = plugin;
        _what = what;
        _at = at;
        try
        {
            (Description, Names, SampleCount) = Contained.Call(plugin, what, at, () => (inner.Description, inner.Names.ToList(), inner.SampleCount));
            if (inputs.FirstOrDefault(i => !Names.Contains(i, StringComparer.Ordinal)) is { } missing)
            {
                throw Wrong($"provides {string.Join(", ", Names)} but not model input '{missing}'");
            }

            if (SampleCount < 1)
            {
                throw Wrong($"holds {SampleCount} samples");
            }
        }
        catch
        {
            // Refused here, so nobody else will dispose it.
            inner.Dispose();
            throw;
        }
    }

    public string Description { get; }

    public IReadOnlyList<string> Names { get; }

    public long SampleCount { get; }

    public IReadOnlyDictionary<string, DenseTensor> Read(long start, int count)
    {
        IReadOnlyDictionary<string, DenseTensor> read = Contained.Call(_plugin, _what, _at, () => _inner.Read(start, count));
        foreach (string name in Names)
        {
            if (!read.TryGetValue(name, out DenseTensor? t) || t.Rank == 0 || t.Shape[0] != count)
            {
                throw Wrong($"returned {(t is null ? "no tensor" : t.ToString())} for '{name}' when asked for samples {start} to {start + count - 1}");
            }
        }

        return read;
    }

    public void Dispose() => Contained.Call(_plugin, _what, _at, () => _inner.Dispose());

    private QuantBuildException Wrong(string what) =>
        new(PluginErrorCodes.ExtensionFailed, $"{_what} {what}",
            "check the reader's options against the model's inputs ('quantbuild inspect' lists them); if they match, report this to the plugin's author",
            _at.File, _at.Line, _at.Column);
}
