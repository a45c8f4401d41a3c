namespace QuantBuild.Onnx.Serialization;

/// <summary>
/// A file written under a temporary name beside its target and renamed into place only once complete,
/// so a crash or Ctrl-C never leaves a half-written file under the real name.
/// </summary>
internal sealed class AtomicFile : IDisposable
{
    private bool _committed;

    public AtomicFile(string target)
    {
        Target = Path.GetFullPath(target);
        string folder = Path.GetDirectoryName(Target)!;
        TempPath = Path.Combine(folder, $".{Path.GetFileName(Target)}.{Guid.NewGuid():N}.tmp");
        Stream = new FileStream(TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
    }

    public string Target { get; }

    public string TempPath { get; }

    public FileStream Stream { get; }

    /// <summary>Flushes to the device, so the rename never exposes data still sitting in the OS cache only.</summary>
    public void Complete()
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
    }

    public void Commit()
    {
        File.Move(TempPath, Target, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        Stream.Dispose();
        if (!_committed)
        {
            try
            {
                File.Delete(TempPath);
            }
            catch (IOException)
            {
                // Best effort: the original failure is the one worth reporting.
            }
        }
    }
}
