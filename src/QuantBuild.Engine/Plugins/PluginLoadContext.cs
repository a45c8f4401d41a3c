using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using QuantBuild.Abstractions.Passes;

namespace QuantBuild.Engine.Plugins;

/// <summary>
/// One plugin's collectible load context. The contract assembly and .NET's own assemblies come from the default
/// context, so the plugin's passes are the host's <see cref="IQuantizationPass"/>; everything else resolves from the
/// plugin's .deps.json, its folder or its package's restore graph, and is private to the plugin. An assembly found
/// nowhere fails to load rather than silently binding to the host's copy (the host's Serilog or YamlDotNet, say).
/// Native libraries resolve from the .deps.json, then the plugin's <c>runtimes/&lt;rid&gt;/native</c> and its folder.
/// </summary>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    private static readonly Assembly Contract = typeof(IQuantizationPass).Assembly;
    private static readonly string FrameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;

    private readonly AssemblyDependencyResolver _resolver;
    private readonly string _folder;
    private readonly IReadOnlyDictionary<string, string> _extraAssemblies;
    private readonly IReadOnlyDictionary<string, string> _extraNatives;

    public PluginLoadContext(string name, string mainAssemblyPath, IReadOnlyDictionary<string, string>? extraAssemblies = null,
        IReadOnlyDictionary<string, string>? extraNatives = null)
        : base("QuantBuild plugin " + name, isCollectible: true)
    {
        _resolver = new AssemblyDependencyResolver(mainAssemblyPath);
        _folder = Path.GetDirectoryName(mainAssemblyPath)!;
        _extraAssemblies = extraAssemblies ?? new Dictionary<string, string>();
        _extraNatives = extraNatives ?? new Dictionary<string, string>();
    }

    /// <summary>True for assemblies that are part of .NET itself (the shared framework), which every plugin shares.</summary>
    public static bool IsFramework(AssemblyName name) =>
        name.Name is { } n && File.Exists(Path.Combine(FrameworkDirectory, n + ".dll"));

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (string.Equals(assemblyName.Name, PluginContract.AssemblyName, StringComparison.OrdinalIgnoreCase))
        {
            // The plugin's own copy of the contract (a ProjectReference copies it) is never loaded: one identity for the contract types.
            return Contract;
        }

        if (IsFramework(assemblyName))
        {
            return null;
        }

        string? path = _resolver.ResolveAssemblyToPath(assemblyName);
        if (path is null && assemblyName.Name is { } simple)
        {
            string local = Path.Combine(_folder, simple + ".dll");
            path = File.Exists(local) ? local : _extraAssemblies.GetValueOrDefault(simple);
        }

        if (path is null)
        {
            throw new FileNotFoundException(
                $"'{assemblyName}' is not in the plugin's .deps.json or folder ({_folder}); a plugin shares only QuantBuild.Abstractions and .NET with the host.",
                assemblyName.Name + ".dll");
        }

        return LoadFromAssemblyPath(path);
    }

    protected override nint LoadUnmanagedDll(string unmanagedDllName)
    {
        string? path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) ?? ProbeNative(unmanagedDllName);
        return path is null ? 0 : LoadUnmanagedDllFromPath(path);
    }

    private string? ProbeNative(string name)
    {
        var folders = new List<string>();
        foreach (string rid in RuntimeIdentifiers())
        {
            folders.Add(Path.Combine(_folder, "runtimes", rid, "native"));
        }

        folders.Add(_folder);
        foreach (string candidate in NativeFileNames(name))
        {
            foreach (string folder in folders)
            {
                string path = Path.Combine(folder, candidate);
                if (File.Exists(path))
                {
                    return path;
                }
            }

            if (_extraNatives.TryGetValue(candidate, out string? restored))
            {
                return restored;
            }
        }

        return null;
    }

    private static IEnumerable<string> NativeFileNames(string name)
    {
        yield return name;
        string prefix = OperatingSystem.IsWindows() ? string.Empty : "lib";
        string suffix = OperatingSystem.IsWindows() ? ".dll" : OperatingSystem.IsMacOS() ? ".dylib" : ".so";
        if (!name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
        {
            yield return name + suffix;
            if (!name.StartsWith(prefix, StringComparison.Ordinal))
            {
                yield return prefix + name + suffix;
            }
        }
        else if (!name.StartsWith(prefix, StringComparison.Ordinal))
        {
            yield return prefix + name;
        }
    }

    /// <summary>This process's runtime identifier and its portable fallbacks, most specific first (linux-musl-x64 → linux-x64 → unix).</summary>
    public static IReadOnlyList<string> RuntimeIdentifiers()
    {
        string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var rids = new List<string> { RuntimeInformation.RuntimeIdentifier, $"{os}-{arch}", os };
        if (!OperatingSystem.IsWindows())
        {
            rids.Add("unix");
        }

        rids.Add("any");
        return rids.Distinct(StringComparer.Ordinal).ToList();
    }
}
