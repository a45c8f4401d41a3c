using QuantBuild.Tests.Shared;

namespace QuantBuild.Engine.Tests.Data;

/// <summary>Locates committed fixtures and the sample data from the repository root, whichever folder tests run in.</summary>
internal static class TestFiles
{

    public static string RepoRoot => RepositoryRoot.Path;

    public static string Fixture(string name) => Path.Combine(RepoRoot, "tests", "QuantBuild.Engine.Tests", "Data", "Fixtures", name);

    public static string Sample(string name) => Path.Combine(RepoRoot, "samples", "fashion-mnist", "data", name);

    /// <summary>Copies a fixture's bytes through <paramref name="edit"/> into a temp file that is deleted with the scope.</summary>
    public static TempFile Edited(string fixture, Func<byte[], byte[]> edit, string extension = ".npy")
    {
        byte[] bytes = edit(File.ReadAllBytes(Fixture(fixture)));
        return TempFile.WithBytes(bytes, extension);
    }
}
