using QuantBuild.Abstractions.Devices;
using QuantBuild.Engine.Profiles;

namespace QuantBuild.Engine.Config;

/// <summary>What validation checks against that the config file itself does not say.</summary>
public sealed record ConfigValidationOptions
{
    /// <summary>Checks nothing beyond the file: pass names are left to the plugin host.</summary>
    public static readonly ConfigValidationOptions Default = new();

    /// <summary>The passes the plugin host can run, or null to skip pass-name checks (the host checks later).</summary>
    public IReadOnlyCollection<KnownPass>? KnownPasses { get; init; }

    /// <summary>
    /// Loads the plugins the file names (its valid 'plugins' entries, and the yaml's folder) and returns the passes they
    /// provide, or null to leave pass names to the run (a plugin failed to load). Called at most once, only when a target
    /// has a recipe and <see cref="KnownPasses"/> is null, so pass names and options are checked in the same run as the
    /// rest of the file instead of in a second round.
    /// </summary>
    public Func<IReadOnlyList<PluginReference>, string, IReadOnlyCollection<KnownPass>?>? PassesFor { get; init; }

    /// <summary>
    /// The plugin metrics and data readers (<c>id/name</c>) the yaml may name, or null to load them with
    /// <see cref="ExtensionsFor"/> (or, when that is null too, to leave their names and options to the run).
    /// </summary>
    public IReadOnlyCollection<KnownExtension>? KnownExtensions { get; init; }

    /// <summary>
    /// Loads the plugins the file names and returns the metrics and data readers they provide, or null to leave them to
    /// the run (a plugin failed to load). Called at most once, only when the yaml names a plugin metric or reader.
    /// </summary>
    public Func<IReadOnlyList<PluginReference>, string, IReadOnlyCollection<KnownExtension>?>? ExtensionsFor { get; init; }

    /// <summary>The device profiles targets may name, by name (default <see cref="DeviceProfiles.All"/>).</summary>
    public IReadOnlyDictionary<string, DeviceProfile> Devices { get; init; } = DeviceProfiles.All;

    /// <summary>The metrics evaluation can compute (default <see cref="MetricInfo.BuiltIn"/>).</summary>
    public IReadOnlyList<MetricInfo> Metrics { get; init; } = MetricInfo.BuiltIn;
}
