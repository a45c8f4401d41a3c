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

    /// <summary>The device profiles targets may name, by name (default <see cref="DeviceProfiles.All"/>).</summary>
    public IReadOnlyDictionary<string, DeviceProfile> Devices { get; init; } = DeviceProfiles.All;

    /// <summary>The metrics evaluation can compute (default <see cref="MetricInfo.BuiltIn"/>).</summary>
    public IReadOnlyList<MetricInfo> Metrics { get; init; } = MetricInfo.BuiltIn;
}
