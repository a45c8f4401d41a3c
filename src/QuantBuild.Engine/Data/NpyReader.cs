using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Engine.Data;

/// <summary>
/// Reads NumPy .npy arrays (format 1.0, 2.0, 3.0; little-endian, C order; bool, integer, float and complex
/// dtypes) into <see cref="DenseTensor"/>. Use <see cref="NpyFile"/> to read a large file in row batches.
/// </summary>
public static class NpyReader
{
    /// <summary>Reads the whole array in <paramref name="path"/>.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1200–QB1209 for a missing, unusable or truncated file.</exception>
    public static DenseTensor Read(string path)
    {
        using NpyFile file = NpyFile.Open(path);
        return file.ReadAll();
    }

    /// <summary>Reads only the header of <paramref name="path"/>: dtype and shape without touching the data.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1200–QB1207 for a missing, unusable or truncated file.</exception>
    public static NpyHeader ReadHeader(string path)
    {
        using NpyFile file = NpyFile.Open(path);
        return file.Header;
    }

    /// <summary>
    /// Reads one array from a forward-only stream positioned at the start of the .npy bytes (for example an
    /// archive member). <paramref name="sourceName"/> names the source in error messages.
    /// </summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1201–QB1209 for unusable or truncated data.</exception>
    public static DenseTensor Read(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        long? length = stream.CanSeek ? stream.Length - stream.Position : null;
        return Read(stream, new DataFileLocation(sourceName, null), length);
    }

    internal static DenseTensor Read(Stream stream, DataFileLocation at, long? length)
    {
        NpyHeader header = ReadHeader(stream, at, length);
        if (header.DataByteCount > Array.MaxLength)
        {
            throw DataFileErrors.Large(at, header.DataByteCount);
        }

        var data = new byte[header.DataByteCount];
        int got = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (got < data.Length)
        {
            throw DataFileErrors.TruncatedData(at, header.DataOffset + header.DataByteCount, header.DataOffset + got);
        }

        return new DenseTensor(header.ElementType, header.Shape, data);
    }

    internal static NpyHeader ReadHeader(Stream stream, DataFileLocation at, long? length)
    {
        // The preamble's size depends on its version byte, so read the fixed 8 bytes before the length field.
        Span<byte> preamble = stackalloc byte[NpyHeaderParser.MaxPreambleLength];
        int got = stream.ReadAtLeast(preamble[..8], 8, throwOnEndOfStream: false);
        if (got == 8)
        {
            int lengthBytes = preamble[6] == 1 ? 2 : 4;
            got += stream.ReadAtLeast(preamble.Slice(8, lengthBytes), lengthBytes, throwOnEndOfStream: false);
        }

        (int preambleLength, long headerLength, int major, int minor) =
            NpyHeaderParser.ReadPreamble(preamble[..got], length ?? got, at);
        long dataOffset = preambleLength + headerLength;
        if (headerLength > 1 << 24)
        {
            // numpy caps headers far below this; a huge value means a damaged length field, not a real header.
            throw DataFileErrors.Malformed(at, $"the header claims {headerLength} bytes");
        }

        if (length is long known && known < dataOffset)
        {
            throw DataFileErrors.TruncatedData(at, dataOffset, length ?? preambleLength);
        }

        var headerBytes = new byte[headerLength];
        int headerGot = stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false);
        if (headerGot < headerBytes.Length)
        {
            throw DataFileErrors.TruncatedData(at, dataOffset, preambleLength + headerGot);
        }

        NpyHeader header = NpyHeaderParser.ParseHeader(headerBytes, major, minor, dataOffset, at);
        if (length is long total && total < dataOffset + header.DataByteCount)
        {
            throw DataFileErrors.TruncatedData(at, dataOffset + header.DataByteCount, total);
        }

        return header;
    }
}
