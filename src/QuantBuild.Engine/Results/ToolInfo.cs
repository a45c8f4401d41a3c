using System.Reflection;

namespace QuantBuild.Engine.Results;

/// <summary>Who made a result: QuantBuild's version, as manifests and cache keys record it.</summary>
public static class ToolInfo
{
    /// <summary>QuantBuild's version (the informational version without its commit suffix).</summary>
    public static string Version { get; } =
        typeof(ToolInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
