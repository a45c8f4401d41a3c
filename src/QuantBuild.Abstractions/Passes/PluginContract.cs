namespace QuantBuild.Abstractions.Passes;

/// <summary>
/// The version of the plugin contract this assembly carries. A plugin compiled against QuantBuild.Abstractions
/// records that assembly's version; the host loads only plugins whose recorded major version is <see cref="Major"/>:
/// a newer major may call members this host does not have, an older one was built against types that changed
/// shape. Minor versions only add members.
/// </summary>
public static class PluginContract
{
    /// <summary>The contract's major version; it equals the major of QuantBuild.Abstractions' assembly version.</summary>
    public const int Major = 2;

    /// <summary>The contract's minor version; additions only.</summary>
    public const int Minor = 0;

    /// <summary>The name of the one assembly host and plugins share.</summary>
    public const string AssemblyName = "QuantBuild.Abstractions";

    /// <summary>The contract version, <see cref="Major"/>.<see cref="Minor"/>.</summary>
    public static Version Version { get; } = new(Major, Minor);
}
