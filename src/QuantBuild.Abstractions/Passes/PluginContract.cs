namespace QuantBuild.Abstractions.Passes;

/// <summary>
/// The version of the plugin contract this assembly carries. A plugin compiled against QuantBuild.Abstractions
/// records that assembly's version; the host refuses a plugin whose recorded major version is newer than
/// <see cref="Major"/>, because it may call members this host does not have. Minor versions only add members.
/// </summary>
public static class PluginContract
{
    /// <summary>The contract's major version; it equals the major of QuantBuild.Abstractions' assembly version.</summary>
    public const int Major = 1;

    /// <summary>The contract's minor version; additions only.</summary>
    public const int Minor = 0;

    /// <summary>The name of the one assembly host and plugins share.</summary>
    public const string AssemblyName = "QuantBuild.Abstractions";

    /// <summary>The contract version, <see cref="Major"/>.<see cref="Minor"/>.</summary>
    public static Version Version { get; } = new(Major, Minor);
}
