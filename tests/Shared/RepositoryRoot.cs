namespace QuantBuild.Tests.Shared;

/// <summary>
/// The repository's root folder (the one holding QuantBuild.sln), found by walking up from the test's output folder.
/// Linked into every test project, so each finds samples and fixtures the same way.
/// </summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "QuantBuild.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"QuantBuild.sln not found above {AppContext.BaseDirectory}.");
    });

    /// <summary>The absolute path of the repository root.</summary>
    public static string Path => Root.Value;
}
