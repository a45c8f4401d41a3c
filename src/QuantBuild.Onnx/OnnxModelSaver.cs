using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using QuantBuild.Abstractions.Ir;
using QuantBuild.Onnx.Conversion;
using QuantBuild.Onnx.Proto;
using QuantBuild.Onnx.Serialization;

namespace QuantBuild.Onnx;

/// <summary>
/// Writes the graph IR as an ONNX model file. Saving is atomic (temp file beside the target, then rename),
/// deterministic (same model and options give the same bytes) and never touches the model it was loaded from.
/// </summary>
public static class OnnxModelSaver
{
    /// <summary>Saves <paramref name="model"/> to <paramref name="path"/>, replacing any existing file only once complete.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1108 when the model cannot fit protobuf's limit, QB1109 on I/O failure.</exception>
    public static void Save(OnnxModel model, string path, OnnxSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= OnnxSaveOptions.Default;
        string fullPath = Path.GetFullPath(path);

        ModelProto proto = IrToProto.Model(model);
        List<TensorProto> tensors = [.. TensorProtoWalker.All(proto)];
        long inline = InlineBytes(tensors);
        bool external = options.UseExternalData || inline > options.ProtobufSizeLimit;

        AtomicFile? dataFile = null;
        AtomicFile? modelFile = null;
        try
        {
            if (external)
            {
                string dataName = options.ExternalDataFileName ?? Path.GetFileName(fullPath) + ".data";
                dataFile = ExternalDataWriter.MoveOut(tensors, fullPath, dataName, options.ExternalDataThreshold, options.ExternalDataAlignment);
                inline = InlineBytes(tensors);
            }

            if (inline > options.ProtobufSizeLimit)
            {
                throw ModelFileErrors.TooLarge(path, inline);
            }

            modelFile = new AtomicFile(fullPath);
            using (var output = new CodedOutputStream(modelFile.Stream, 1 << 16, leaveOpen: true))
            {
                proto.WriteTo(output);
                output.Flush();
            }

            modelFile.Complete();
            dataFile?.Complete();

            // The side file first: a model never points at data that is not there yet.
            dataFile?.Commit();
            modelFile.Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ModelFileErrors.WriteFailed(path, e);
        }
        finally
        {
            modelFile?.Dispose();
            dataFile?.Dispose();
        }
    }

    /// <summary>Serializes <paramref name="model"/> with every tensor inline, for hashing or in-memory use.</summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1108 when the model is too large for one protobuf message.</exception>
    public static byte[] SaveToBytes(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelProto proto = IrToProto.Model(model);
        long inline = InlineBytes(TensorProtoWalker.All(proto));
        if (inline > OnnxSaveOptions.DefaultProtobufSizeLimit)
        {
            throw ModelFileErrors.TooLarge("<memory>", inline);
        }

        return proto.ToByteArray();
    }

    /// <summary>
    /// Serializes <paramref name="model"/> for an ONNX Runtime session without copying its file-backed weights: every
    /// tensor whose bytes are still a slice of an external data file (as loaded, or as <see cref="Externalize"/> left
    /// it) is written as a reference to that file. Tensors a pass or the encoder replaced are written inline. Only
    /// one folder can be referenced (ORT reads external data from one folder per session): the one holding the most
    /// mapped bytes; tensors mapped from another folder are written inline.
    /// </summary>
    /// <exception cref="Abstractions.Diagnostics.QuantBuildException">QB1108 when what must stay inline exceeds protobuf's limit.</exception>
    public static SessionGraph SaveForSession(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelProto proto = IrToProto.Model(model);
        var mapped = new List<(TensorProto Proto, MappedSegment Segment, int Start, int Length)>();
        var perFolder = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (TensorProto t in TensorProtoWalker.All(proto))
        {
            if (t.HasRawData && MemoryMarshal.TryGetMemoryManager(t.RawData.Memory, out MappedSegment? segment, out int start, out int length))
            {
                mapped.Add((t, segment, start, length));
                string dataFolder = Path.GetDirectoryName(segment.File.Path)!;
                perFolder[dataFolder] = perFolder.GetValueOrDefault(dataFolder) + length;
            }
        }

        // The folder holding the most mapped bytes is referenced (an input's external data, typically, rather than the
        // few small tensors a run moved to its workspace); ties go to the first in ordinal order, for stable output.
        string? folder = perFolder.OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Key).FirstOrDefault();
        long referenced = 0;
        foreach ((TensorProto t, MappedSegment segment, int start, int length) in mapped)
        {
            if (!string.Equals(Path.GetDirectoryName(segment.File.Path), folder, StringComparison.Ordinal))
            {
                continue;
            }

            t.ClearRawData();
            t.DataLocation = TensorProto.Types.DataLocation.External;
            t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = Path.GetFileName(segment.File.Path) });
            t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = (segment.Offset + start).ToString(CultureInfo.InvariantCulture) });
            t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(CultureInfo.InvariantCulture) });
            referenced += length;
        }

        long inline = InlineBytes(TensorProtoWalker.All(proto));
        if (inline > OnnxSaveOptions.DefaultProtobufSizeLimit)
        {
            throw ModelFileErrors.TooLarge("<session graph>", inline);
        }

        return new SessionGraph(proto.ToByteArray(), folder, referenced);
    }

    /// <summary>
    /// Moves the bytes of every tensor of at least <paramref name="threshold"/> bytes that is held in memory into
    /// <paramref name="dataPath"/>, streamed tensor by tensor, and points the tensors at a mapping of that file instead.
    /// Smaller tensors that still slice a larger buffer (the loaded file's) get their own copy, so that buffer can be
    /// collected. The model's content does not change; saving it still writes every byte where
    /// <see cref="OnnxSaveOptions"/> says. Sessions then reference the file (<see cref="SaveForSession"/>) instead of
    /// carrying the weights.
    /// </summary>
    /// <returns>The bytes moved.</returns>
    public static long Externalize(OnnxModel model, string dataPath, long threshold = 1024)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(dataPath);
        List<TensorValue> tensors = IrTensorWalker.All(model);
        var moved = new List<(TensorValue Tensor, long Offset)>();
        long position = 0;
        try
        {
            using (var file = new FileStream(dataPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 20))
            {
                byte[] padding = new byte[4096];
                foreach (TensorValue t in tensors)
                {
                    if (t.Data.Length < threshold || MemoryMarshal.TryGetMemoryManager(t.Data, out MappedSegment? _))
                    {
                        continue;
                    }

                    long aligned = (position + 4095) / 4096 * 4096;
                    file.Write(padding, 0, (int)(aligned - position));
                    file.Write(t.Data.Span);
                    moved.Add((t, aligned));
                    position = aligned + t.Data.Length;
                }

                file.Flush();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ModelFileErrors.WriteFailed(dataPath, e);
        }

        MappedDataFile mapped = MappedDataFile.Open(Path.GetFullPath(dataPath));
        foreach ((TensorValue t, long offset) in moved)
        {
            t.Data = mapped.Slice(offset, t.Data.Length);
        }

        foreach (TensorValue t in tensors)
        {
            if (MemoryMarshal.TryGetArray(t.Data, out ArraySegment<byte> slice) && slice.Array!.Length != slice.Count)
            {
                t.Data = slice.ToArray();
            }
        }

        return position;
    }

    /// <summary>
    /// The bytes <see cref="Save"/> would write for <paramref name="model"/> with everything inline (the .onnx plus its
    /// side file, less alignment padding, when external data is used) to within a few bytes of length prefixes, computed
    /// without serializing anything.
    /// </summary>
    public static long SerializedSize(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        // Protobuf's CalculateSize is an int: over 2 GB it overflows. Tensor bytes are summed as longs (with the few
        // bytes of tag and length each costs) and only the structure is measured by protobuf.
        ModelProto proto = IrToProto.Model(model);
        long raw = 0;
        foreach (TensorProto t in TensorProtoWalker.All(proto))
        {
            if (t.HasRawData)
            {
                raw += t.RawData.Length + 1 + CodedOutputStream.ComputeLengthSize(t.RawData.Length);
                t.ClearRawData();
            }
        }

        return raw + proto.CalculateSize();
    }

    private static long InlineBytes(IEnumerable<TensorProto> tensors)
    {
        long total = 0;
        foreach (TensorProto t in tensors)
        {
            total += t.RawData.Length;
            foreach (ByteString s in t.StringData)
            {
                total += s.Length;
            }
        }

        return total;
    }
}
