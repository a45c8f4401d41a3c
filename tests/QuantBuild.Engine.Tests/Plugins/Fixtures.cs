using QuantBuild.Engine.Config;
using QuantBuild.Engine.Plugins;

namespace QuantBuild.Engine.Tests.Plugins;

/// <summary>The compiled fixture plugins tests/Fixtures/Fixtures.targets copies beside the tests, and helpers to load them.</summary>
internal static class Fixtures
{
    public static string Folder(string project) => Path.Combine(AppContext.BaseDirectory, "fixtures", project);

    public static string Feed => Path.Combine(AppContext.BaseDirectory, "fixtures", "feed");

    /// <summary>A host with no first-party plugins, loading <paramref name="folders"/> as yaml 'path' entries.</summary>
    public static PluginHost Host(params string[] folders) => Host(folders.Select(f => new PluginReference { Path = f, AllowOutside = true }).ToArray());

    public static PluginHost Host(PluginReference[] references, PluginHostOptions? options = null) =>
        PluginHost.Load(references, AppContext.BaseDirectory, options ?? NoFirstParty);

    public static PluginHostOptions NoFirstParty { get; } = new() { FirstPartyDirectory = Path.Combine(AppContext.BaseDirectory, "no-first-party-plugins") };

    /// <summary>Copies a fixture plugin's folder (to tamper with it) and returns the copy's path.</summary>
    public static string CopyOf(string project, string into)
    {
        string source = Folder(project);
        string target = Path.Combine(into, project);
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to, overwrite: true);
        }

        return target;
    }
}
