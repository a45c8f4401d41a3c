using Microsoft.Win32.SafeHandles;
using QuantBuild.Abstractions.Ir;

namespace QuantBuild.Onnx.Serialization;

/// <summary>
/// Reads tensors whose bytes live in side files next to the model. Each tensor is read straight from disk
/// into its own array (one copy), and no path may leave the model's folder.
/// </summary>
internal sealed class ExternalDataReader : IDisposable
{
    private readonly string _modelPath;
    private readonly string _folder;
    private readonly string _realFolder;
    private readonly Dictionary<string, SafeFileHandle> _open = new(StringComparer.Ordinal);

    public ExternalDataReader(string modelPath, string folder)
    {
        _modelPath = modelPath;
        _folder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        _realFolder = InputFile.TryRealPath(_folder) ?? _folder;
    }

    public ReadOnlyMemory<byte> Read(string tensorName, ExternalDataReference reference)
    {
        string location = reference.Location;
        if (location.Length == 0 || location.Contains('\0') || Path.IsPathRooted(location))
        {
            throw ModelFileErrors.ExternalPathEscapes(_modelPath, location, tensorName);
        }

        string full = Path.GetFullPath(Path.Combine(_folder, location));
        if (!full.StartsWith(_folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw ModelFileErrors.ExternalPathEscapes(_modelPath, location, tensorName);
        }

        if (!_open.TryGetValue(full, out SafeFileHandle? handle))
        {
            // The lexical check above cannot see symlinks: a link inside the folder may point anywhere, so the
            // real path must stay inside the model's real folder too, and only a regular file is opened.
            string? problem = InputFile.Problem(full, out string real);
            if (problem is not null && !File.Exists(full) && new FileInfo(full).LinkTarget is null)
            {
                throw ModelFileErrors.ExternalFileMissing(_modelPath, full, tensorName);
            }

            if (!InputFile.IsInside(real, _realFolder))
            {
                throw ModelFileErrors.ExternalPathEscapes(_modelPath, $"{location} (a symlink to {real})", tensorName);
            }

            if (problem is not null)
            {
                throw ModelFileErrors.ExternalNotReadable(_modelPath, full, tensorName, problem);
            }

            handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
            _open.Add(full, handle);
        }

        long fileLength = RandomAccess.GetLength(handle);
        long offset = reference.Offset ?? 0;
        long length = reference.Length ?? Math.Max(0, fileLength - offset);
        if (offset < 0 || length < 0 || offset + length > fileLength || length > Array.MaxLength)
        {
            throw ModelFileErrors.ExternalRange(_modelPath, full, tensorName, offset, length, fileLength);
        }

        byte[] bytes = GC.AllocateUninitializedArray<byte>((int)length);
        int done = 0;
        while (done < bytes.Length)
        {
            int n = RandomAccess.Read(handle, bytes.AsSpan(done), offset + done);
            if (n == 0)
            {
                throw ModelFileErrors.ExternalRange(_modelPath, full, tensorName, offset, length, fileLength);
            }

            done += n;
        }

        return bytes;
    }

    public void Dispose()
    {
        foreach (SafeFileHandle handle in _open.Values)
        {
            handle.Dispose();
        }

        _open.Clear();
    }
}
