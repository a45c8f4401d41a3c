namespace QuantBuild.Engine.Plugins;

/// <summary>A restored package plugin: its main assembly and the runtime files of its dependency graph.</summary>
/// <param name="MainAssembly">The plugin assembly in the package's <c>lib/net*</c> folder.</param>
/// <param name="Assemblies">Managed dependencies by simple name → path in the packages folder.</param>
/// <param name="Natives">Native dependencies for this platform by file name → path.</param>
internal sealed record RestoredPackage(string MainAssembly, IReadOnlyDictionary<string, string> Assemblies, IReadOnlyDictionary<string, string> Natives);
