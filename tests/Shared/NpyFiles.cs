using System.Text;
using QuantBuild.Abstractions.Tensors;

namespace QuantBuild.Tests.Shared;

/// <summary>Writes tensors as numpy.save does (.npy v1.0, little-endian, C order), for tests that need data files.</summary>
internal static class NpyFiles
{
    public static void Write(string path, DenseTensor tensor)
    {
        using FileStream stream = File.Create(path);
        Write(stream, tensor);
    }

    public static void Write(Stream stream, DenseTensor tensor)
    {
        string descr = tensor.ElementType switch { ElementType.Float => "<f4", ElementType.Int32 => "<i4", ElementType.Int64 => "<i8", _ => throw new NotSupportedException() };
        string shape = tensor.Rank == 1 ? $"({tensor.Shape[0]},)" : $"({string.Join(", ", tensor.ShapeArray())})";
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        stream.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(tensor.Data.Span);
    }
}
