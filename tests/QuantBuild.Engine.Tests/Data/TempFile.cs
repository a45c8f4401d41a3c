namespace QuantBuild.Engine.Tests.Data;

/// <summary>A uniquely named file in the temp folder, deleted on dispose.</summary>
internal sealed class TempFile : IDisposable
{
    private TempFile(string path) => Path = path;

    public string Path { get; }

    public static TempFile WithBytes(byte[] bytes, string extension)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"qb-data-{Guid.NewGuid():N}{extension}");
        File.WriteAllBytes(path, bytes);
        return new TempFile(path);
    }

    public void Dispose()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file must not fail a test.
        }
    }
}
