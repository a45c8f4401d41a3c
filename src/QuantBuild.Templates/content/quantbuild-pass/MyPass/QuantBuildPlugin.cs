using QuantBuild.Abstractions.Passes;

// The plugin's id (it qualifies any metrics and data readers the plugin adds, as `metric: my-pass/name`) and its block
// of diagnostic codes: block nn owns QBnn00–QBnn99. Blocks 70–99 are for third parties; claim a free one in
// QuantBuild's docs/plugins.md before you publish (`dotnet new quantbuild-pass --codeBlock nn`), so no two plugins a
// quantize.yaml loads share one (the later is refused with QB2011). A QuantBuildException whose code is outside the
// block reaches users as QB2012.
[assembly: QuantBuildPlugin("my-pass", MyPass.PluginCodes.Block)]

namespace MyPass;

/// <summary>This plugin's block of diagnostic codes.</summary>
internal static class PluginCodes
{
    /// <summary>The first two digits of this plugin's codes.</summary>
    public const int Block = 99;
}
