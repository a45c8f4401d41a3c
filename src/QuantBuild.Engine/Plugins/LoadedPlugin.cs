using QuantBuild.Abstractions.Passes;

namespace QuantBuild.Engine.Plugins;

/// <summary>A plugin the host holds: what listings show, its passes and the load context to unload.</summary>
internal sealed record LoadedPlugin(PluginInfo Info, IReadOnlyList<IQuantizationPass> Passes, PluginLoadContext? Context);
