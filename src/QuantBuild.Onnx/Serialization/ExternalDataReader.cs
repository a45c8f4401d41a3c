using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Preserved;

namespace QuantBuild.Onnx.Serialization;

/// <summary>
/// Gives tensors whose bytes live in side files next to the model. Each side file is memory-mapped once and
/// tensors slice the mapping, so nothing is copied into managed memory until someone reads it (and then only
/// the pages read). No path may leave the model's folder.
/// </summary>
internal sealed class ExternalDataReader : IDisposable
{
    private readonly string _modelPath;
    private readonly string _folder;
    private readonly string _realFolder;
    private readonly Dictionary<string, MappedDataFile> _open = new(StringComparer.Ordinal);

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

        if (!_open.TryGetValue(full, out MappedDataFile? file))
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

            file = MappedDataFile.Open(real);
            _open.Add(full, file);
        }

        long fileLength = file.Length;
        long offset = reference.Offset ?? 0;
        long length = reference.Length ?? Math.Max(0, fileLength - offset);
        if (offset < 0 || length < 0 || offset + length > fileLength || length > Array.MaxLength)
        {
            throw ModelFileErrors.ExternalRange(_modelPath, full, tensorName, offset, length, fileLength);
        }

        return file.Slice(offset, (int)length);
    }

    /// <summary>Forgets the open files; their mappings stay alive as long as tensors slice them.</summary>
    public void Dispose() => _open.Clear();
}
