namespace QuantBuild.Engine.Plugins;

/// <summary>Where the host looks for plugins besides what the yaml names, and its limits.</summary>
public sealed record PluginHostOptions
{
    /// <summary>The first-party plugins folder: one sub-folder per plugin (default <c>plugins/</c> beside QuantBuild's assemblies).</summary>
    public string FirstPartyDirectory { get; init; } = Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>The NuGet global packages folder package plugins are restored into (default NUGET_PACKAGES or ~/.nuget/packages).</summary>
    public string? PackagesDirectory { get; init; }

    /// <summary>How long one pass may run when its recipe step sets no <c>timeout_seconds</c>.</summary>
    public TimeSpan DefaultPassTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The default options.</summary>
    public static PluginHostOptions Default { get; } = new();
}
