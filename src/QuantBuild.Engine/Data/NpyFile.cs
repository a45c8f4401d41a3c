using Microsoft.Win32.SafeHandles;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>
/// An open .npy file whose rows (indices along the first axis) are read on demand, so calibration can walk a
/// file larger than memory in batches. Reads are positional, so several threads may read rows at once.
/// </summary>
public sealed class NpyFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly DataFileLocation _at;

    private NpyFile(SafeFileHandle handle, string path, NpyHeader header)
    {
        _handle = handle;
        _at = new DataFileLocation(path, null);
        Path = path;
        Header = header;
    }

    /// <summary>The path the file was opened from.</summary>
    public string Path { get; }

    /// <summary>Element type, shape and layout.</summary>
    public NpyHeader Header { get; }

    /// <summary>Length of the first axis; 0 for a 0-d scalar.</summary>
    public long RowCount => Header.RowCount;

    /// <summary>Opens <paramref name="path"/> and validates its header and length; no element data is read yet.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1200–QB1207 when the file is missing, not a usable .npy, or truncated.</exception>
    public static NpyFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // Opening a FIFO blocks and /dev/zero never ends: only a regular file with content is opened.
        if (QuantBuild.Onnx.InputFile.Problem(path, out _) is { } problem && (File.Exists(path) || new FileInfo(path).LinkTarget is not null))
        {
            throw DataFileErrors.NotRegularFile(path, problem);
        }

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw DataFileErrors.CannotOpenFile(path, e);
        }

        try
        {
            NpyHeader header = ReadHeader(handle, new DataFileLocation(path, null));
            return new NpyFile(handle, path, header);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads the whole array.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1209 when the data exceeds one in-memory buffer.</exception>
    public DenseTensor ReadAll()
    {
        long bytes = Header.DataByteCount;
        if (bytes > Array.MaxLength)
        {
            throw DataFileErrors.Large(_at, bytes);
        }

        var data = new byte[bytes];
        ReadExact(Header.DataOffset, data);
        return new DenseTensor(Header.ElementType, Header.Shape, data);
    }

    /// <summary>Reads rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) into a new tensor of shape [count, ...].</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1208 when the range runs past the last row or the array is 0-d.</exception>
    public DenseTensor ReadRows(long start, int count)
    {
        long bytes = CheckRows(start, count);
        if (bytes > Array.MaxLength)
        {
            throw DataFileErrors.Large(_at, bytes);
        }

        var data = new byte[bytes];
        ReadExact(Header.DataOffset + (start * Header.RowByteCount), data);
        long[] shape = Header.ShapeArray();
        shape[0] = count;
        return new DenseTensor(Header.ElementType, shape, data);
    }

    /// <summary>
    /// Reads rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) into a caller-owned
    /// buffer, so a batch loop can reuse one buffer and keep memory flat. Returns the number of bytes written.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is smaller than count × <see cref="NpyHeader.RowByteCount"/>.</exception>
    public int ReadRows(long start, int count, Span<byte> destination)
    {
        long bytes = CheckRows(start, count);
        if (destination.Length < bytes)
        {
            throw new ArgumentException($"{count} rows need {bytes} bytes; the buffer holds {destination.Length}.", nameof(destination));
        }

        Span<byte> target = destination[..(int)bytes];
        ReadExact(Header.DataOffset + (start * Header.RowByteCount), target);
        return target.Length;
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    private long CheckRows(long start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (Header.Rank == 0)
        {
            throw DataFileErrors.NoRows(_at);
        }

        if (start > Header.RowCount - count)
        {
            throw DataFileErrors.RowRange(_at, start, count, Header.RowCount);
        }

        return count * Header.RowByteCount;
    }

    private void ReadExact(long offset, Span<byte> target)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        while (!target.IsEmpty)
        {
            int n = RandomAccess.Read(_handle, target, offset);
            if (n == 0)
            {
                // The length was checked at open, so the file shrank underneath us.
                throw DataFileErrors.TruncatedData(_at, Header.DataOffset + Header.DataByteCount, RandomAccess.GetLength(_handle));
            }

            target = target[n..];
            offset += n;
        }
    }

    private static NpyHeader ReadHeader(SafeFileHandle handle, DataFileLocation at)
    {
        long length = RandomAccess.GetLength(handle);
        Span<byte> preamble = stackalloc byte[NpyHeaderParser.MaxPreambleLength];
        int got = ReadUpTo(handle, preamble, 0);
        (int preambleLength, long headerLength, int major, int minor) = NpyHeaderParser.ReadPreamble(preamble[..got], length, at);

        long dataOffset = preambleLength + headerLength;
        if (length < dataOffset)
        {
            throw DataFileErrors.TruncatedData(at, dataOffset, length);
        }

        if (headerLength > 1 << 24)
        {
            // numpy caps headers far below this; a huge value means a damaged length field, not a real header.
            throw DataFileErrors.Malformed(at, $"the header claims {headerLength} bytes");
        }

        var headerBytes = new byte[headerLength];
        ReadUpTo(handle, headerBytes, preambleLength);
        NpyHeader header = NpyHeaderParser.ParseHeader(headerBytes, major, minor, dataOffset, at);

        long needed = dataOffset + header.DataByteCount;
        if (length < needed)
        {
            throw DataFileErrors.TruncatedData(at, needed, length);
        }

        return header;
    }

    private static int ReadUpTo(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
