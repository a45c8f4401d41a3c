using System.Security.Cryptography;
using System.Text;

namespace QuantBuild.Engine.Cache;

/// <summary>
/// The files a plugin's code comes from: its folder's assemblies, .deps.json and .runtimeconfig.json, native libraries,
/// and everything under runtimes/. A pass that changed in a dependency (not its main assembly) must change the cache
/// key and re-trigger the build, so both hash and list the whole set, not just the main assembly.
/// </summary>
public static class PluginFiles
{
    private static readonly string[] TopLevel = [".dll", ".deps.json", ".runtimeconfig.json", ".so", ".dylib"];

    /// <summary>The code files of the plugin whose main assembly is <paramref name="mainAssembly"/>, in ordinal order of their relative path.</summary>
    public static IReadOnlyList<string> Of(string mainAssembly) => InFolder(Path.GetDirectoryName(Path.GetFullPath(mainAssembly))!);

    /// <summary>The code files of a plugin folder (a build or publish output), in ordinal order of their relative path.</summary>
    public static IReadOnlyList<string> InFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }

        IEnumerable<string> top = Directory.EnumerateFiles(folder)
            .Where(f => TopLevel.Any(ext => f.EndsWith(ext, StringComparison.OrdinalIgnoreCase)));
        string runtimes = Path.Combine(folder, "runtimes");
        IEnumerable<string> native = Directory.Exists(runtimes) ? Directory.EnumerateFiles(runtimes, "*", SearchOption.AllDirectories) : [];
        return top.Concat(native).OrderBy(f => Relative(folder, f), StringComparer.Ordinal).ToList();
    }

    /// <summary>SHA-256 over each code file's relative path and content hash.</summary>
    public static string Hash(string mainAssembly)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(mainAssembly))!;
        IEnumerable<string> lines = Of(mainAssembly).Select(f => Relative(folder, f) + "=" + InputHashes.HashFile(f));
        return CacheKey.Hex(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", lines))));
    }

    private static string Relative(string folder, string file) => Path.GetRelativePath(folder, file).Replace('\\', '/');
}
