using System.Reflection;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using QuantBuild.Abstractions.Data;
using QuantBuild.Abstractions.Diagnostics;
using QuantBuild.Abstractions.Evaluation;
using QuantBuild.Abstractions.Passes;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// Loads one plugin: find its main assembly → check the sha256 pin → load it in its own context → refuse another
/// contract major → read its identity → load its direct dependencies (so a missing one fails here, not in the middle
/// of a pass) → create every pass, metric and data reader type. Any failure becomes a QB20xx error on the plugin's
/// <see cref="PluginInfo"/>, never an exception.
/// </summary>
internal static partial class PluginLoader
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
                CheckContract(info.Name, v);
            }

            info = Identity(info, assembly);
            LoadDependencies(context, assembly, info.Name);
            Type[] types = ExportedTypes(assembly, info.Name);
            IReadOnlyList<IQuantizationPass> passes = Create<IQuantizationPass>(types, info.Name, p => _ = p.Name.Length + p.OptionsType.Name.Length + p.SupportedOps.Count);
            IReadOnlyList<IMetricProvider> metrics = Create<IMetricProvider>(types, info.Name, m => _ = m.Name.Length + m.OptionsType.Name.Length);
            IReadOnlyList<IDataReader> readers = Create<IDataReader>(types, info.Name, r => _ = r.Name.Length + r.OptionsType.Name.Length);
            info = info with
            {
                Passes = passes.Select(p => new PassInfo(p.Name, p.OptionsType.FullName ?? p.OptionsType.Name, p.SupportedOps.ToList())).ToList(),
                Metrics = Qualified(info, metrics.Select(m => m.Name), "metric"),
                Readers = Qualified(info, readers.Select(r => r.Name), "data reader"),
            };
            return new LoadedPlugin(info, passes, context) { Metrics = metrics, Readers = readers };
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

    // Contract 2.0 changed the shape of 1.x types (IR lists, DeviceProfile, TensorValue): a 1.x plugin would fail on its
    // first call, so it is refused here with the way forward, like one built for a newer major.
    private static void CheckContract(string name, Version built)
    {
        if (built.Major > PluginContract.Major)
        {
            throw new QuantBuildException(PluginErrorCodes.ContractMismatch,
                $"plugin '{name}' was built against plugin contract {built.Major}.{built.Minor}, newer than this QuantBuild's {PluginContract.Version}; it was not loaded",
                $"update QuantBuild to a version with contract {built.Major}.x, or use a plugin version built for contract {PluginContract.Major}.x");
        }

        if (built.Major < PluginContract.Major)
        {
            throw new QuantBuildException(PluginErrorCodes.ContractMismatch,
                $"plugin '{name}' was built against plugin contract {built.Major}.{built.Minor}; this QuantBuild carries contract {PluginContract.Version}, whose types changed shape, so it was not loaded",
                $"rebuild the plugin against QuantBuild.Abstractions {PluginContract.Major}.0.* (docs/plugins.md, 'Migrating from contract 1.x', lists every change), or use a QuantBuild with contract {built.Major}.x");
        }
    }

    private static PluginInfo Identity(PluginInfo info, Assembly assembly)
    {
        QuantBuildPluginAttribute? declared;
        try
        {
            declared = assembly.GetCustomAttribute<QuantBuildPluginAttribute>();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new QuantBuildException(PluginErrorCodes.BadIdentity, $"plugin '{info.Name}': its [QuantBuildPlugin] attribute could not be read: {e.Message}",
                "declare it as [assembly: QuantBuildPlugin(\"id\", block)] with constant arguments", inner: e);
        }

        if (declared is null)
        {
            return info with { Id = info.Name.ToLowerInvariant() };
        }

        if (!IdPattern().IsMatch(declared.Id))
        {
            throw new QuantBuildException(PluginErrorCodes.BadIdentity,
                $"plugin '{info.Name}' declares id '{declared.Id}'; an id is lower-case letters, digits, '-' and '_', starting with a letter; it was not loaded",
                "fix the id in [assembly: QuantBuildPlugin(...)], for example \"contoso\"");
        }

        if (!PluginCodes.IsPluginBlock(declared.CodeBlock))
        {
            throw new QuantBuildException(PluginErrorCodes.BadIdentity,
                $"plugin '{info.Name}' claims code block {declared.CodeBlock}; plugins may claim 21–29 (first-party) or 70–99 (third-party); it was not loaded",
                "claim a free block from 70 to 99 (docs/plugins.md lists the blocks taken) in [assembly: QuantBuildPlugin(...)]");
        }

        return info with { Id = declared.Id, CodeBlock = declared.CodeBlock };
    }

    private static IReadOnlyList<string> Qualified(PluginInfo info, IEnumerable<string> names, string kind)
    {
        var qualified = new List<string>();
        foreach (string name in names)
        {
            string full = $"{info.Id}/{name}";
            if (!IdPattern().IsMatch(name) || qualified.Contains(full, StringComparer.Ordinal))
            {
                throw new QuantBuildException(PluginErrorCodes.BadIdentity,
                    $"plugin '{info.Name}' provides a {kind} named '{name}', {(qualified.Contains(full, StringComparer.Ordinal) ? "twice" : "which is not lower-case letters, digits, '-' and '_'")}; it was not loaded",
                    "report this to the plugin's author: each metric and data reader needs its own lower-case name");
            }

            qualified.Add(full);
        }

        return qualified;
    }

    private static Type[] ExportedTypes(Assembly assembly, string name)
    {
        try
        {
            return assembly.GetExportedTypes();
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException or ReflectionTypeLoadException)
        {
            throw MissingDependency(name, (e as FileNotFoundException)?.FileName ?? e.Message, e);
        }
    }

    // Every public, non-abstract class implementing T with a public parameterless constructor is one T; touching its
    // members here makes a throwing Name fail the load (QB2007), not the run.
    private static IReadOnlyList<T> Create<T>(Type[] types, string name, Action<T> touch)
        where T : class
    {
        var created = new List<T>();
        foreach (Type type in types.Where(t => t.IsClass && !t.IsAbstract && !t.ContainsGenericParameters && typeof(T).IsAssignableFrom(t)
                     && t.GetConstructor(Type.EmptyTypes) is not null).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            try
            {
                var instance = (T)Activator.CreateInstance(type)!;
                touch(instance);
                created.Add(instance);
            }
            catch (Exception e)
            {
                Exception inner = e is TargetInvocationException { InnerException: { } i } ? i : e;
                throw new QuantBuildException(PluginErrorCodes.PassCreationFailed,
                    $"plugin '{name}': {typeof(T).Name} type {type.FullName} could not be created: {inner.GetType().Name}: {inner.Message}",
                    "a pass, metric or data reader needs a public parameterless constructor that does no work, and Name/OptionsType that do not throw; report this to the plugin's author", inner: inner);
            }
        }

        return created;
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    private static string? InformationalVersion(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString();

    private static QuantBuildException MissingDependency(string name, string dependency, Exception e) =>
        new(PluginErrorCodes.MissingDependency, $"plugin '{name}' is missing a dependency: {dependency} ({e.Message})",
            "publish the plugin with 'dotnet publish' (or build it) so every dependency is in its folder and .deps.json, and point quantize.yaml at that folder", inner: e);
}
