namespace QuantBuild.Engine.Files;

/// <summary>
/// A complete temp file waiting to be renamed over its destination (<see cref="AtomicFile.StageCopy"/>). Disposing it
/// without <see cref="Commit"/> deletes the temp file; a killed process leaves it for <see cref="AtomicFile.RemoveStale"/>.
/// </summary>
public sealed class StagedFile : IDisposable
{
    private readonly string _temp;
    private bool _committed;

    internal StagedFile(string temp, string path)
    {
        _temp = temp;
        Path = path;
    }

    /// <summary>Where the file goes.</summary>
    public string Path { get; }

    /// <summary>Renames the temp file over <see cref="Path"/>.</summary>
    public void Commit()
    {
        try
        {
            File.Move(_temp, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw AtomicFile.CannotWrite(Path, e);
        }

        _committed = true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_committed && File.Exists(_temp))
        {
            File.Delete(_temp);
        }
    }
}
