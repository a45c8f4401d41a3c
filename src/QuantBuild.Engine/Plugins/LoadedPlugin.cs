using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Passes;

namespace QuantBuild.Engine.Plugins;

/// <summary>A plugin the host holds: what listings show, its passes, metrics and data readers, and the load context to unload.</summary>
internal sealed record LoadedPlugin(PluginInfo Info, IReadOnlyList<IQuantizationPass> Passes, PluginLoadContext? Context)
{
    /// <summary>The metrics it provides.</summary>
    public IReadOnlyList<IMetricProvider> Metrics { get; init; } = Array.Empty<IMetricProvider>();

    /// <summary>The data readers it provides.</summary>
    public IReadOnlyList<IDataReader> Readers { get; init; } = Array.Empty<IDataReader>();

    /// <summary>The same plugin, not loaded, with <paramref name="error"/>: nothing of it stays reachable.</summary>
    public LoadedPlugin Refused(Abstractions.Diagnostics.QuantBuildException error)
    {
        Context?.Unload();
        return new LoadedPlugin(Info with { Passes = Array.Empty<PassInfo>(), Metrics = Array.Empty<string>(), Readers = Array.Empty<string>(),
            ErrorCode = error.Code, Error = error.ToDiagnosticString() }, Array.Empty<IQuantizationPass>(), null);
    }
}
