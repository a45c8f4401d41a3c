namespace QuantBuild.Engine.Plugins;

/// <summary>The QB20xx codes the plugin host reports; docs/errors.md has a row for each.</summary>
public static class PluginErrorCodes
{
    /// <summary>The plugin assembly could not be loaded (not a .NET assembly, wrong format, unreadable).</summary>
    public const string LoadFailed = "QB2000";

    /// <summary>The plugin path names no plugin assembly (empty folder, several candidates, missing file).</summary>
    public const string NotFound = "QB2001";

    /// <summary>An assembly the plugin references is neither in its folder/.deps.json nor part of .NET.</summary>
    public const string MissingDependency = "QB2002";

    /// <summary>
    /// The plugin was compiled against another major version of the contract than this host carries (a newer one, or
    /// 1.x before contract 2.0); a newer minor of this major loads, with this code as a warning.
    /// </summary>
    public const string ContractMismatch = "QB2003";

    /// <summary>The plugin assembly's SHA-256 differs from the pin in quantize.yaml.</summary>
    public const string HashMismatch = "QB2004";

    /// <summary>The NuGet package could not be restored, or holds no assembly for this .NET.</summary>
    public const string PackageRestoreFailed = "QB2005";

    /// <summary>Two plugins provide a pass with the same name.</summary>
    public const string DuplicatePass = "QB2006";

    /// <summary>A pass type could not be created (its constructor or Name threw).</summary>
    public const string PassCreationFailed = "QB2007";

    /// <summary>A pass's options type or device check threw while config validation bound its options.</summary>
    public const string OptionsFailed = "QB2008";

    /// <summary>
    /// A plugin's [QuantBuildPlugin] identity is invalid (id spelling, code block outside 21–29 and 70–99) or clashes with
    /// another loaded plugin's id or block, or it provides two metrics or data readers of one name.
    /// </summary>
    public const string BadIdentity = "QB2011";

    /// <summary>A plugin raised a diagnostic code outside its reserved block; the host reports it under this code.</summary>
    public const string CodeOutsideBlock = "QB2012";

    /// <summary>quantize.yaml names a plugin metric or data reader (<c>id/name</c>) no loaded plugin provides, at run time.</summary>
    public const string UnknownExtension = "QB2013";

    /// <summary>A recipe names a pass no loaded plugin provides, at run time.</summary>
    public const string UnknownPass = "QB2010";

    /// <summary>A pass threw while running.</summary>
    public const string PassFailed = "QB2020";

    /// <summary>A pass ran past its time limit.</summary>
    public const string PassTimedOut = "QB2021";

    /// <summary>A plugin metric or data reader threw while it was created or used.</summary>
    public const string ExtensionFailed = "QB2022";
}
