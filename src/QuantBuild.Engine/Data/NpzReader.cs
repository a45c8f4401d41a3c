using System.IO.Compression;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>
/// Reads arrays from a NumPy .npz archive (what <c>numpy.savez</c> and <c>numpy.savez_compressed</c> write: a zip
/// of .npy members, stored or deflated). Arrays are named as in Python, without the ".npy" suffix.
/// Members are read whole: deflated data can only be decompressed from the start, so for calibration sets
/// too large for memory prefer a .npy file, which <see cref="NpyFile"/> streams by rows.
/// One instance must not be used from several threads at once (the underlying zip reader is not thread-safe).
/// </summary>
public sealed class NpzReader : IDisposable
{
    private const string MemberSuffix = ".npy";
    private readonly ZipArchive _archive;
    private readonly Dictionary<string, ZipArchiveEntry> _entries;

    private NpzReader(string path, ZipArchive archive)
    {
        Path = path;
        _archive = archive;
        _entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        var names = new List<string>();
        foreach (ZipArchiveEntry entry in archive.Entries)
        {
            if (entry.FullName.EndsWith(MemberSuffix, StringComparison.Ordinal))
            {
                string name = entry.FullName[..^MemberSuffix.Length];
                if (_entries.TryAdd(name, entry))
                {
                    names.Add(name);
                }
            }
        }

        ArrayNames = names;
    }

    /// <summary>The path the archive was opened from.</summary>
    public string Path { get; }

    /// <summary>The array names in archive order (numpy's keyword names, for example "images").</summary>
    public IReadOnlyList<string> ArrayNames { get; }

    /// <summary>Opens the archive and lists its members; no array is decompressed yet.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1200 when the file cannot be opened, QB1220 when it is not a zip archive.</exception>
    public static NpzReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // Opening a FIFO blocks and /dev/zero never ends: only a regular file with content is opened.
        if (QuantBuild.Onnx.InputFile.Problem(path, out _) is { } problem && (File.Exists(path) || new FileInfo(path).LinkTarget is not null))
        {
            throw DataFileErrors.NotRegularFile(path, problem);
        }

        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw DataFileErrors.CannotOpenFile(path, e);
        }

        try
        {
            return new NpzReader(path, new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false));
        }
        catch (InvalidDataException e)
        {
            stream.Dispose();
            throw DataFileErrors.NotZip(path, e);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>True when the archive holds an array called <paramref name="name"/> (with or without ".npy").</summary>
    public bool Contains(string name) => _entries.ContainsKey(Normalize(name));

    /// <summary>Reads the array called <paramref name="name"/> (with or without ".npy").</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1221 when there is no such array, QB1222 when it cannot be decompressed, QB1201–QB1209 for an unusable member.</exception>
    public DenseTensor Read(string name)
    {
        (ZipArchiveEntry entry, DataFileLocation at) = Find(name);
        return WithMember(entry, at, stream => NpyReader.Read(stream, at, entry.Length));
    }

    /// <summary>Reads only the header of the array called <paramref name="name"/>.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">As for <see cref="Read"/>.</exception>
    public NpyHeader ReadHeader(string name)
    {
        (ZipArchiveEntry entry, DataFileLocation at) = Find(name);
        return WithMember(entry, at, stream => NpyReader.ReadHeader(stream, at, entry.Length));
    }

    /// <inheritdoc />
    public void Dispose() => _archive.Dispose();

    private static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.EndsWith(MemberSuffix, StringComparison.Ordinal) ? name[..^MemberSuffix.Length] : name;
    }

    private (ZipArchiveEntry Entry, DataFileLocation At) Find(string name)
    {
        if (!_entries.TryGetValue(Normalize(name), out ZipArchiveEntry? entry))
        {
            throw DataFileErrors.Missing(Path, Normalize(name), ArrayNames);
        }

        return (entry, new DataFileLocation(Path, entry.FullName));
    }

    private static T WithMember<T>(ZipArchiveEntry entry, DataFileLocation at, Func<Stream, T> read)
    {
        try
        {
            using Stream stream = entry.Open();
            return read(stream);
        }
        catch (InvalidDataException e)
        {
            // Raised by the zip layer for a bad local header, unknown compression method or corrupt deflate data.
            throw DataFileErrors.Corrupt(at, e);
        }
    }
}
