using System.Buffers.Binary;
using System.Text;

namespace QuantBuild.Cli.Tests.Fuzz;

/// <summary>Reads and writes the few .npy shapes the run campaign needs (version 1.0, little-endian, C order).</summary>
internal static class NpyBytes
{
    /// <summary>The raw element bytes of a version 1.0 .npy file and its header text.</summary>
    public static (string Header, byte[] Body) Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8, 2));
        return (Encoding.ASCII.GetString(file, 10, headerLength), file[(10 + headerLength)..]);
    }

    /// <summary>Writes a .npy file with the given dtype descriptor ('&lt;f4', '&lt;i8'...) and shape.</summary>
    public static void Write(string path, string descr, IReadOnlyList<long> shape, ReadOnlySpan<byte> body)
    {
        string dims = shape.Count == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}";
        // The whole preamble is padded with spaces to a multiple of 64 and ends in a newline.
        int padded = (10 + header.Length + 1 + 63) / 64 * 64;
        header = header.PadRight(padded - 10 - 1) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']);
        stream.Write([1, 0]);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        stream.Write(length);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(body);
    }
}
