namespace QuantBuild.Engine.Pipeline;

/// <summary>
/// A run's private scratch folder: the fp32 weights of a model that had them inline (written once, then mapped by
/// every session), and each target's candidate model before it is published. Under the output folder when it is
/// writable (same disk, so publishing is a cheap copy), else under the system temp folder; deleted when the run
/// ends, failed or not.
/// </summary>
internal sealed class RunWorkspace : IDisposable
{
    private const string ParentName = ".quantbuild-work";

    private RunWorkspace(string folder) => Folder = folder;

    public string Folder { get; }

    public static RunWorkspace Create(string outputDirectory)
    {
        string name = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            return new RunWorkspace(Directory.CreateDirectory(Path.Combine(outputDirectory, ParentName, name)).FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new RunWorkspace(Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "quantbuild-" + name)).FullName);
        }
    }

    /// <summary>A path inside the workspace; its folder exists.</summary>
    public string PathFor(params string[] parts)
    {
        string path = Path.Combine([Folder, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
            string parent = Path.GetDirectoryName(Folder)!;
            if (Path.GetFileName(parent) == ParentName && !Directory.EnumerateFileSystemEntries(parent).Any())
            {
                Directory.Delete(parent);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort (a file still mapped on Windows); what the run reports matters more than its scratch.
        }
    }
}
