namespace QuantBuild.Engine.Plugins;

/// <summary>Where a plugin came from.</summary>
public enum PluginSource
{
    /// <summary>A folder or assembly named under <c>plugins:</c> with <c>path</c>.</summary>
    Path,

    /// <summary>A NuGet package named under <c>plugins:</c> with <c>package</c> and <c>version</c>.</summary>
    Package,

    /// <summary>Shipped with QuantBuild in the <c>plugins/</c> folder beside its assemblies.</summary>
    FirstParty,
}
