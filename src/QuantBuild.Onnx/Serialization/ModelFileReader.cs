using System.Text;
using Google.Protobuf;
using QuantBuild.Onnx.Proto;

namespace QuantBuild.Onnx.Serialization;

/// <summary>Bytes of a .onnx file to a ModelProto, with every failure turned into a QB11xx error.</summary>
internal static class ModelFileReader
{
    /// <summary>
    /// Message nesting Google.Protobuf accepts (its default recursion limit); <see cref="RawDataLifter"/> stops at
    /// the same depth, so no file can drive either into a stack overflow.
    /// </summary>
    public const int MaxNesting = 100;

    public static byte[] ReadAll(string path)
    {
        string? problem = InputFile.Problem(path, out _);
        if (problem is not null)
        {
            // A FIFO or socket reads as empty (length 0), and is refused as empty, before it is opened and blocks.
            throw problem.StartsWith("it is empty", StringComparison.Ordinal) ? ModelFileErrors.Empty(path)
                : File.Exists(path) || new FileInfo(path).LinkTarget is not null || Directory.Exists(path) ? ModelFileErrors.NotRegularFile(path, problem)
                : ModelFileErrors.NotFound(path);
        }

        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            // Over 2 GB (ReadAllBytes' limit) a model must keep its weights in external data anyway.
            throw ModelFileErrors.NotRegularFile(path, $"it cannot be read into memory ({e.Message}); models over 2 GB keep their weights in external data");
        }
    }

    /// <param name="bytes">The file's bytes.</param>
    /// <param name="displayPath">The name for error messages.</param>
    /// <param name="lifted">Ranges of <paramref name="bytes"/> that tensors now reference instead of raw_data (see <see cref="RawDataLifter"/>).</param>
    public static ModelProto Parse(byte[] bytes, string displayPath, out HashSet<(long Offset, long Length)>? lifted)
    {
        lifted = null;
        if (bytes.Length == 0)
        {
            throw ModelFileErrors.Empty(displayPath);
        }

        if (bytes.AsSpan().StartsWith("version https://git-lfs"u8))
        {
            throw ModelFileErrors.NotOnnx(displayPath, "it is a Git LFS pointer; run 'git lfs pull'");
        }

        switch (ModelEnvelope.Inspect(bytes))
        {
            case ModelEnvelope.Verdict.NotAModel:
                throw ModelFileErrors.NotOnnx(displayPath, Describe(bytes));
            case ModelEnvelope.Verdict.Truncated:
                throw ModelFileErrors.Truncated(displayPath);
        }

        ModelProto model;
        try
        {
            var rewritten = RawDataLifter.Lift(bytes);
            model = ModelProto.Parser.ParseFrom(rewritten?.Bytes ?? bytes);
            lifted = rewritten?.Lifted;
        }
        catch (InvalidProtocolBufferException e) when (e.Message.Contains("truncated", StringComparison.OrdinalIgnoreCase)
            || e.Message.Contains("ended unexpectedly", StringComparison.OrdinalIgnoreCase))
        {
            throw ModelFileErrors.Truncated(displayPath, e);
        }
        catch (InvalidProtocolBufferException e) when (e.Message.Contains("levels of nesting", StringComparison.OrdinalIgnoreCase))
        {
            throw ModelFileErrors.TooDeep(displayPath, MaxNesting / 3, e);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw ModelFileErrors.NotOnnx(displayPath, "its protobuf structure is invalid: " + e.Message, e);
        }

        if (!model.HasIrVersion || model.IrVersion <= 0)
        {
            throw ModelFileErrors.NotOnnx(displayPath, "it has no ONNX IR version");
        }

        if (model.Graph is null && model.Functions.Count == 0)
        {
            throw ModelFileErrors.NotOnnx(displayPath, "it has no graph");
        }

        return model;
    }

    private static string Describe(byte[] bytes)
    {
        ReadOnlySpan<byte> head = bytes.AsSpan(0, Math.Min(bytes.Length, 512));
        int printable = 0;
        foreach (byte b in head)
        {
            if (b is (>= 0x20 and < 0x7F) or (byte)'\n' or (byte)'\r' or (byte)'\t')
            {
                printable++;
            }
        }

        return printable == head.Length
            ? $"it looks like text starting \"{Encoding.ASCII.GetString(head[..Math.Min(head.Length, 24)]).ReplaceLineEndings(" ")}\""
            : "its bytes do not form an ONNX ModelProto";
    }
}
