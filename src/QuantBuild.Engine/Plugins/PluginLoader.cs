using System.Reflection;
using System.Security.Cryptography;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Passes;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// Loads one plugin: find its main assembly → check the sha256 pin → load it in its own context → refuse a newer
/// contract → load its direct dependencies (so a missing one fails here, not in the middle of a pass) → create
/// every pass type. Any failure becomes a QB20xx error on the plugin's <see cref="PluginInfo"/>, never an exception.
/// </summary>
internal static class PluginLoader
{
    public static LoadedPlugin Load(string name, PluginSource source, string path, string? sha256, Func<RestoredPackage>? restore = null, string? packageVersion = null)
    {
        var info = new PluginInfo { Name = name, Source = source, Path = path, Version = packageVersion };
        PluginLoadContext? context = null;
        try
        {
            RestoredPackage? package = restore?.Invoke();
            string main = package?.MainAssembly ?? MainAssembly(name, path);
            info = info with { Path = main, Name = source == PluginSource.Package ? name : Path.GetFileNameWithoutExtension(main) };
            string actual = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(main))).ToLowerInvariant();
            info = info with { Sha256 = actual };
            if (sha256 is not null && !string.Equals(sha256, actual, StringComparison.OrdinalIgnoreCase))
            {
                throw new QuantBuildException(PluginErrorCodes.HashMismatch,
                    $"plugin '{info.Name}' ({main}) has sha256 {actual}, but quantize.yaml pins {sha256.ToLowerInvariant()}; it was not loaded",
                    "if you changed or upgraded the plugin on purpose, update the sha256 pin; otherwise find out who replaced the file");
            }

            context = new PluginLoadContext(info.Name, main, package?.Assemblies, package?.Natives);
            Assembly assembly = LoadMain(context, info.Name, main);
            info = info with { Version = packageVersion ?? InformationalVersion(assembly) };
            AssemblyName? contract = assembly.GetReferencedAssemblies().FirstOrDefault(r => r.Name == PluginContract.AssemblyName);
            if (contract?.Version is { } v)
            {
                info = info with { ContractVersion = $"{v.Major}.{v.Minor}" };
                if (v.Major > PluginContract.Major)
                {
                    throw new QuantBuildException(PluginErrorCodes.NewerContract,
                        $"plugin '{info.Name}' was built against plugin contract {v.Major}.{v.Minor}, newer than this QuantBuild's {PluginContract.Version}; it was not loaded",
                        $"update QuantBuild to a version with contract {v.Major}.x, or use a plugin version built for contract {PluginContract.Major}.x");
                }
            }

            LoadDependencies(context, assembly, info.Name);
            IReadOnlyList<IQuantizationPass> passes = CreatePasses(assembly, info.Name);
            info = info with
            {
                Passes = passes.Select(p => new PassInfo(p.Name, p.OptionsType.FullName ?? p.OptionsType.Name, p.SupportedOps.ToList())).ToList(),
            };
            return new LoadedPlugin(info, passes, context);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            QuantBuildException error = e as QuantBuildException ?? new QuantBuildException(PluginErrorCodes.LoadFailed,
                $"plugin '{info.Name}' could not be loaded from {info.Path}: {e.GetType().Name}: {e.Message}",
                "rebuild the plugin against this QuantBuild's contract and point quantize.yaml at its output", inner: e);
            context?.Unload();
            return new LoadedPlugin(info with { ErrorCode = error.Code, Error = error.ToDiagnosticString() }, Array.Empty<IQuantizationPass>(), null);
        }
    }

    private static string MainAssembly(string name, string path)
    {
        if (File.Exists(path))
        {
            return Path.GetFullPath(path);
        }

        if (!Directory.Exists(path))
        {
            throw new QuantBuildException(PluginErrorCodes.NotFound, $"plugin '{name}': {path} does not exist",
                "build or publish the plugin to that folder, or fix the path in quantize.yaml");
        }

        // A built or published plugin folder has exactly one .deps.json, named after its main assembly.
        string folderName = Path.Combine(path, Path.GetFileName(Path.TrimEndingDirectorySeparator(path)) + ".dll");
        string[] deps = Directory.GetFiles(path, "*.deps.json");
        string? main = File.Exists(folderName) ? folderName
            : deps.Length == 1 ? Path.Combine(path, Path.GetFileName(deps[0])[..^".deps.json".Length] + ".dll")
            : null;
        if (main is null || !File.Exists(main))
        {
            throw new QuantBuildException(PluginErrorCodes.NotFound,
                $"plugin folder {path} has no main assembly: expected <folder name>.dll or exactly one .deps.json (found {deps.Length})",
                "point 'path' at the plugin's .dll, or at the folder 'dotnet publish' wrote for it");
        }

        return Path.GetFullPath(main);
    }

    private static Assembly LoadMain(PluginLoadContext context, string name, string main)
    {
        try
        {
            return context.LoadFromAssemblyPath(main);
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or IOException)
        {
            throw new QuantBuildException(PluginErrorCodes.LoadFailed, $"plugin '{name}' could not be loaded from {main}: {e.Message}",
                "rebuild the plugin for .NET and point quantize.yaml at its output", inner: e);
        }
    }

    private static void LoadDependencies(PluginLoadContext context, Assembly assembly, string name)
    {
        foreach (AssemblyName reference in assembly.GetReferencedAssemblies())
        {
            try
            {
                context.LoadFromAssemblyName(reference);
            }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
            {
                throw MissingDependency(name, reference.FullName, e);
            }
        }
    }

    private static IReadOnlyList<IQuantizationPass> CreatePasses(Assembly assembly, string name)
    {
        Type[] types;
        try
        {
            types = assembly.GetExportedTypes();
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException or ReflectionTypeLoadException)
        {
            throw MissingDependency(name, (e as FileNotFoundException)?.FileName ?? e.Message, e);
        }

        var passes = new List<IQuantizationPass>();
        foreach (Type type in types.Where(t => t.IsClass && !t.IsAbstract && !t.ContainsGenericParameters && typeof(IQuantizationPass).IsAssignableFrom(t)
                     && t.GetConstructor(Type.EmptyTypes) is not null).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            try
            {
                var pass = (IQuantizationPass)Activator.CreateInstance(type)!;
                _ = pass.Name.Length + pass.OptionsType.Name.Length + pass.SupportedOps.Count;
                passes.Add(pass);
            }
            catch (Exception e)
            {
                Exception inner = e is TargetInvocationException { InnerException: { } i } ? i : e;
                throw new QuantBuildException(PluginErrorCodes.PassCreationFailed,
                    $"plugin '{name}': pass type {type.FullName} could not be created: {inner.GetType().Name}: {inner.Message}",
                    "a pass needs a public parameterless constructor that does no work, and Name/OptionsType/SupportedOps that do not throw; report this to the plugin's author", inner: inner);
            }
        }

        return passes;
    }

    private static string? InformationalVersion(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString();

    private static QuantBuildException MissingDependency(string name, string dependency, Exception e) =>
        new(PluginErrorCodes.MissingDependency, $"plugin '{name}' is missing a dependency: {dependency} ({e.Message})",
            "publish the plugin with 'dotnet publish' (or build it) so every dependency is in its folder and .deps.json, and point quantize.yaml at that folder", inner: e);
}
